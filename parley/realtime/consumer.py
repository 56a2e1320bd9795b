"""WebSocket transport: authenticate, parse, call a command, map errors to `error` frames.

One consumer serves both routes (parley.routing): `/ws/chat/<id>/`, one conversation
(the seed's socket), and `/ws/chat/`, every conversation of the user plus per-user
frames. It is Channels' AsyncWebsocketConsumer with two overrides, each for a reason:

    __call__   Channels' own, handed a receive that also carries the channel layer's
               messages (parley.realtime.layer): the layer may be down when a socket
               opens and come back later, so Channels is told of no layer at all
    dispatch   Channels' own minus the close_old_connections thread hop it makes before
               every message: database calls here go through parley.realtime.dbcalls,
               which looks after the connection, so a live frame costs no hop

Once authenticated, a parley.realtime.session.Session owns what the socket listens to
and is told; this class only moves frames and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from parley import events, shutdown
from parley.common.errors import AppError, NotAuthenticated
from parley.conf import parley_settings
from parley.realtime import commands, protocol
from parley.realtime.backpressure import CommandBudget, Gone, TooSlow, send_watched
from parley.realtime.dbcalls import db_call, db_command
from parley.realtime.layer import LayerLink, poll_degraded
from parley.realtime.legacy_wire import LegacyWire
from parley.realtime.protocol import CLOSE_TOO_SLOW, CLOSE_UNAUTHORIZED
from parley.realtime.session import Session
from parley.realtime.upkeep import upkeep

logger = logging.getLogger(__name__)


class ChatConsumer(AsyncWebsocketConsumer):
    # An alias no host configures: Channels sees no layer, LayerLink attaches the default.
    channel_layer_alias = "parley.realtime: attached by LayerLink"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.link = LayerLink(on_lost=self._poll_while_degraded)
        self.session: Session | None = None
        self.wire: LegacyWire | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.closing = self.released = False
        self.max_backlog = parley_settings.WS_MAX_BACKLOG  # read per frame below: once per socket
        await self.link.attach()
        try:
            # Layer messages are dispatched inside the Inbox (one task and wait less per frame).
            await super().__call__(scope, self.link.inbox(receive, deliver=self.dispatch), send)
        finally:
            await self._release()  # a client gone mid-send (uvicorn's ClientDisconnected) skips disconnect()
            self.link.close()

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        # A drain (parley.shutdown) closes with 1012 once this frame is handled; it knows
        # open sockets by their session (upkeep), so a busy one is recognised by it too.
        async with shutdown.handling(self.session if self.session is not None else self):
            await handler(message)

    # --- Authenticate -----------------------------------------------------------------------

    async def connect(self) -> None:
        events.bind_server_loop(asyncio.get_running_loop())  # for a host without routing.DoorbellLoop
        self.budget = CommandBudget.from_settings()
        await self.accept()
        try:
            hello = protocol.handshake(self.scope)
        except protocol.HandshakeRefused as refused:
            self.wire = LegacyWire(db_call(commands.legacy_names)) if refused.legacy else None
            await self._refuse(refused, code=refused.close_code)
            return
        self.conversation_id, self.since = hello.conversation_id, hello.since
        self.wire = LegacyWire(db_call(commands.legacy_names)) if hello.legacy else None
        if hello.token or getattr(self.scope.get("user"), "is_authenticated", False):  # AuthMiddlewareStack
            await self._open(hello.token)
        else:
            self.spawn(self._auth_deadline())

    async def _open(self, token: str | None) -> None:
        """Two thread hops: check here, before subscribing; then count, learn presence
        and catch up (Session.start), after subscribing, so nothing published in
        between is lost."""
        try:
            grant = await db_call(commands.socket_open)(
                token=token, session=self.scope.get("user"), conversation_id=self.conversation_id
            )
        except AppError as error:
            await self._refuse(error)
            return
        self.session = Session(self, grant, self.link, conversation_id=self.conversation_id, wire=self.wire)
        try:
            started = await self.session.start(self.since)
        except commands.TooManySockets as error:  # refused uncounted: no count to give back
            self.session = None
            await self.link.leave()
            await self._refuse(error)
            return
        if started:
            upkeep.register(self.session)
            if self.link.degraded:
                self._poll_while_degraded()

    async def _auth_deadline(self) -> None:
        await asyncio.sleep(parley_settings.WS_AUTH_TIMEOUT_SECONDS)
        if self.session is None:
            await self._refuse(NotAuthenticated("Send an auth frame or a ?token= first.", code="auth_timeout"))

    def _poll_while_degraded(self) -> None:
        running = any(t.get_name() == "degraded-poll" and not t.done() for t in self.tasks)
        if self.session is not None and not self.closing and not running:
            self.spawn(poll_degraded(self.link, self.session), name="degraded-poll")

    async def disconnect(self, code: int) -> None:
        await self._release()

    async def _release(self) -> None:
        """Give back what the socket holds, once, whether the client closed cleanly or
        vanished while we were sending."""
        if self.released:
            return
        self.released = self.closing = True
        for task in self.tasks:
            task.cancel()
        if self.session is not None:
            upkeep.unregister(self.session)
            await self.session.end()
        else:
            await self.link.leave()

    # --- Parse, call a command, map errors --------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        frame: protocol.ClientFrame | None = None
        try:
            frame = protocol.decode(text_data, max_bytes=parley_settings.WS_MAX_FRAME_BYTES, budget=self.budget)
            await self._command(frame)
        except protocol.Flooding as error:
            await self._refuse(error)
        except AppError as error:
            await self.send_frame(events.error(ref=frame.ref if frame else None, code=error.code, detail=error.detail))
        except Exception:
            logger.exception("websocket command %r failed", frame.kind if frame else None)
            failed = "The command failed; it was not applied."
            await self.send_frame(events.error(ref=frame.ref if frame else None, code="server_error", detail=failed))
        if self.session is None and not self.closing:
            await self.close_with(CLOSE_UNAUTHORIZED)  # the auth frame comes first; the error said why

    async def _command(self, frame: protocol.ClientFrame) -> None:
        if frame.kind is None:
            raise AppError("'type' must be a string naming a command.", code="unknown_type")
        if frame.kind == "auth":
            await self._auth(frame)
            return
        session = self.session
        if session is None:
            raise NotAuthenticated("Authenticate first (auth frame or ?token=).")
        if frame.kind == "ping":
            await self.send_frame(events.pong(ref=frame.ref))
            return
        write = commands.WRITES.get(frame.kind)
        if write is None and frame.kind != "typing":
            raise AppError(f"Unknown frame type {frame.kind!r}.", code="unknown_type")
        cid = protocol.target(frame, socket_conversation=self.conversation_id, tracked=session.cursors)
        if write is None:  # typing: ephemeral, acknowledged only when the frame has a `ref`
            forwarded = session.typing_sent(cid, protocol.flag(frame, "is_typing", default=True))
            if frame.ref is not None:
                await self.send_frame(events.ack_typing(ref=frame.ref, forwarded=forwarded))
            return
        args = protocol.fields(frame, required=write.required, optional=write.optional)
        message = await db_command(write.run)(user=session.grant.user, conversation_id=cid, **args)
        await self.send_frame(events.ack_write(ref=frame.ref, message=message))

    async def _auth(self, frame: protocol.ClientFrame) -> None:
        token = frame.body.get("token")
        if not isinstance(token, str) or not token:
            raise AppError("The auth frame needs a 'token'.", code="missing_field")
        if self.session is None:
            await self._open(token)
        else:
            await self.send_frame(events.ack_auth(ref=frame.ref, expires_at=await self.session.reauthenticate(token)))

    # --- Channel-layer messages (published by parley.events) ---------------------------------

    async def parley_event(self, message: dict[str, Any]) -> None:
        if self.link.backlog() > self.max_backlog:
            logger.info("closing a socket %d frames behind", self.link.backlog())
            await self._too_slow()
        if self.session is not None and not self.closing:
            await self.session.on_event(message)

    async def parley_user(self, message: dict[str, Any]) -> None:
        if self.session is not None and not self.closing:
            await self.session.on_user(message)

    async def parley_revoke(self, message: dict[str, Any]) -> None:
        if self.session is not None:
            await self.session.on_revoke(message)

    # --- Transport (session.Transport) ---------------------------------------------------------

    async def send_frame(self, frame: Mapping[str, Any]) -> None:
        await self.send_text(json.dumps(frame, separators=(",", ":")))

    async def send_text(self, text: str) -> None:
        """Send, or give up on a client that does not read (parley.realtime.backpressure):
        it reconnects and catches up by `seq`."""
        if self.closing:
            return
        if self.wire is not None:  # the legacy protocol: translated after delivery decided
            translated = await self.wire.translate(text)
            if translated is None:
                return
            text = translated
        try:
            await send_watched(self.send(text_data=text), backlog=self.link.backlog)
        except TooSlow as slow:
            logger.info("closing a socket that stopped reading (%d frames behind)", slow.backlog)
            await self._too_slow()
        except Gone:
            self.closing = True
            raise StopConsumer() from None

    async def close_with(self, code: int, error: events.Error | None = None) -> None:
        if error is not None:
            await self.send_frame(error)
        if not self.closing:
            self.closing = True
            await self.close(code=code)

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str | None = None) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(work, name=name))

    async def _refuse(self, error: AppError, *, code: int | None = None) -> None:
        """The error frame, then the close code a client acts on."""
        frame = events.error(ref=None, code=error.code, detail=error.detail)
        await self.close_with(code or protocol.close_code_for(error), frame)

    async def _too_slow(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.base_send({"type": "websocket.close", "code": CLOSE_TOO_SLOW}), timeout=1)
        raise StopConsumer()

"""WebSocket transport: authenticate, subscribe, parse commands, deliver in `seq` order.

One consumer serves both routes:

    /ws/chat/<id>/   one conversation (the seed's socket)
    /ws/chat/        every conversation of the user, plus per-user frames

Delivery per conversation keeps a cursor (the last `seq` sent). A live frame at
`cursor + 1` is sent; one at or below the cursor is a duplicate and dropped; one
further ahead means frames were missed (the channel layer is at-most-once), so the
gap is read from the database first. Subscribing happens before the catch-up read,
so a reconnecting client with `since` gets every event after it exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch

from parley import commands, events, legacy, presence
from parley.commands import SocketGrant
from parley.common.errors import AppError, NotAuthenticated, NotFound, NotParticipant
from parley.conf import parley_settings
from parley.dbcalls import db_call, db_command
from parley.upkeep import upkeep
from parley.users import wire_id

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4400
CLOSE_TOO_SLOW = 4408
SEND_CHECK_SECONDS = 0.25  # how often a blocked send looks at the socket's backlog
CLOSE_TOO_MANY = 4429


def close_code_for(error: AppError) -> int:
    if isinstance(error, NotAuthenticated):
        return CLOSE_UNAUTHORIZED
    if isinstance(error, NotParticipant):
        return CLOSE_FORBIDDEN
    if isinstance(error, NotFound):
        return CLOSE_NOT_FOUND
    if error.status == 429:
        return CLOSE_TOO_MANY
    return CLOSE_FORBIDDEN if error.status == 403 else CLOSE_BAD_REQUEST


MAX_ID = 2**63 - 1  # a bigint primary key


def conversation_id_in_path(raw: str) -> int:
    """The conversation a /ws/chat/<id>/ path names, or 0 for a path that cannot name one
    (not a positive integer, or past a bigint): such a socket is closed with 4404."""
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        return 0
    return int(raw)


class CommandBudget:
    """Per-socket flood control: a token bucket; far past it, the socket is closed.

    `clock` is when a frame is counted. A test that must not depend on how fast a busy
    machine runs the consumer sets it to a fixed time: then exactly `burst` frames pass,
    and the `burst + 1`-th refusal in a row closes the socket."""

    clock: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = self.clock()
        self.refusals = 0

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refusals = 0
            return True
        self.refusals += 1
        return False

    @property
    def flooding(self) -> bool:
        return self.refusals > self.burst


class ChatConsumer(AsyncWebsocketConsumer):
    groups: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Channels' own entry point, except that the channel layer is optional at any
        moment: a socket opened while Redis is unreachable is accepted and served from
        the database (`degraded`: it polls), and attaches to the layer once it is back."""
        self.scope = scope
        self.base_send = send
        self.degraded = False
        self.channel_name = ""
        self._init_state()
        self.layer_attached = asyncio.Event()
        self.channel_layer = None
        await self._attach_layer()
        try:
            with contextlib.suppress(StopConsumer):
                await await_many_dispatch([receive, self._layer_receive], self.dispatch)
        finally:
            # A client gone mid-send (uvicorn's ClientDisconnected) skips disconnect().
            await self._release()

    async def _attach_layer(self) -> bool:
        """Open a channel (once) and (re)subscribe every group; False leaves the socket
        degraded, to try again on its next poll."""
        layer = self.channel_layer or get_channel_layer(self.channel_layer_alias)
        if layer is None:
            return False
        timeout = parley_settings.PUBLISH_TIMEOUT * 4
        try:
            if not self.channel_name:
                self.channel_name = await asyncio.wait_for(layer.new_channel(), timeout=timeout)
                self.channel_layer = layer
            for group in list(self.subscribed):
                await asyncio.wait_for(layer.group_add(group, self.channel_name), timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - Redis unreachable: serve from the database
            logger.warning("channel layer unavailable, socket degraded to polling: %s", exc.__class__.__name__)
            self.degraded = True
            return False
        self.degraded = False
        self.layer_attached.set()
        return True

    async def _layer_receive(self) -> dict[str, Any]:
        while self.channel_layer is None:
            self.layer_attached.clear()
            await self.layer_attached.wait()
        return await self.channel_layer.receive(self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch also runs close_old_connections in a thread before every
        # message; every database call here goes through chat.dbcalls, which looks
        # after the connection itself, so live frames skip a thread hop each.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- Handshake ------------------------------------------------------------------------

    def _init_state(self) -> None:
        self.grant: SocketGrant | None = None
        self.cursors: dict[int, int] = {}
        self.subscribed: set[str] = set()
        self.conversation_id: int | None = None
        self.seen_presence: dict[int, bool] = {}
        self.typing_sent: dict[int, tuple[float, bool]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.lock = asyncio.Lock()
        self.counted = False
        self.closing = False
        self.released = False
        self.expiry: asyncio.TimerHandle | None = None
        self.legacy: legacy.Names | None = None  # legacy protocol hook: set for ?protocol=legacy

    async def connect(self) -> None:
        # Publishes from request threads go to this loop, where the layer's connections
        # live; a host whose ASGI app is not wrapped in parley.routing.DoorbellLoop
        # gets it bound by its first socket.
        events.bind_server_loop(asyncio.get_running_loop())
        rate, seconds = (int(x) for x in parley_settings.RATE_LIMITS["ws_command"].split("/"))
        self.budget = CommandBudget(rate=rate / seconds, burst=rate)
        route = self.scope.get("url_route", {}).get("kwargs", {})
        named = route.get("conversation_id")
        if named is not None:
            self.conversation_id = conversation_id_in_path(named)

        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        if refusal := self._legacy_protocol(query.get("protocol", [None])[0]):  # legacy protocol hook
            await self._send_error(None, "invalid_protocol", refusal)
            await self._close(CLOSE_BAD_REQUEST)
            return
        if self.conversation_id == 0:
            await self._send_error(None, "not_found", "Conversation not found.")
            await self._close(CLOSE_NOT_FOUND)
            return
        try:
            self.since = self._parse_since(query.get("since", [None])[0])
        except ValueError as exc:
            await self._send_error(None, "invalid_since", str(exc))
            await self._close(CLOSE_BAD_REQUEST)
            return
        token = query.get("token", [None])[0]
        session_user = self.scope.get("user")  # set by AuthMiddlewareStack, when the host uses it
        if token or getattr(session_user, "is_authenticated", False):
            await self._open(token or None)
        else:
            self.tasks.append(asyncio.ensure_future(self._auth_deadline()))

    def _parse_since(self, raw: str | None) -> dict[int, int]:
        if raw is None or raw == "":
            return {}
        if self.conversation_id is not None:
            if not raw.isdigit():
                raise ValueError("'since' must be a non-negative integer seq.")
            return {self.conversation_id: int(raw)}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError("'since' must be a JSON object of conversation id -> seq.") from None
        if not isinstance(value, dict):
            raise ValueError("'since' must be a JSON object of conversation id -> seq.")
        since: dict[int, int] = {}
        for key, seq in value.items():
            if not str(key).isdigit() or not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
                raise ValueError("'since' maps conversation ids to non-negative integers.")
            since[int(key)] = seq
        return since

    async def _auth_deadline(self) -> None:
        await asyncio.sleep(parley_settings.WS_AUTH_TIMEOUT_SECONDS)
        if self.grant is None:
            await self._send_error(None, "auth_timeout", "Send an auth frame or a ?token= first.")
            await self._close(CLOSE_UNAUTHORIZED)

    async def _open(self, token: str | None) -> None:
        """Two thread hops: check and count (before subscribing), then catch up and learn
        presence (after subscribing, so nothing published in between is lost)."""
        try:
            grant = await db_call(commands.socket_open)(
                token=token, session=self.scope.get("user"), conversation_id=self.conversation_id
            )
        except AppError as error:
            await self._send_error(None, error.code, error.detail)
            await self._close(close_code_for(error))
            return
        user_id = grant.user.pk
        self.grant = grant
        self.counted = True
        await self._subscribe(events.user_group(user_id))
        for cid in grant.subscribe:
            await self._subscribe(events.conversation_group(cid))
        async with self.lock:
            catch_up = await db_call(commands.socket_catch_up)(
                user_id=user_id,
                conversation_ids=grant.subscribe,
                since=self.since,
                all_conversations=self.conversation_id is None,
                presence_in=grant.presence_in,
            )
            if catch_up.announce:
                # Before any send to the client: if it is already gone, the claim must
                # still be honoured (its release announces the way back offline).
                online = events.presence(user_id=user_id, online=True)
                for cid in grant.presence_in:
                    events.publish_ephemeral(online, conversation=cid)
            for cid in catch_up.left:
                await self._unsubscribe(cid)
            if self.conversation_id is not None and self.conversation_id in catch_up.left:
                await self._close(CLOSE_FORBIDDEN)
                return
            self.cursors.update(catch_up.cursors)
            await self._legacy_learn(catch_up.frames, members_of=self.conversation_id)  # legacy protocol hook
            for frame in catch_up.frames:
                await self._deliver_stored(frame)
            # Conversations joined between the grant and our subscribing to the user
            # group (user socket only): their conversation.created went by unheard.
            for cid, seq in catch_up.joined.items():
                await self._subscribe(events.conversation_group(cid))
                self.cursors[cid] = seq
                grant.member_of.append(cid)
        await self._send_json(
            {"type": "ready", "user": grant.user_wire_id, "conversations": {str(k): v for k, v in self.cursors.items()}}
        )
        await self._send_presence(catch_up.online)
        upkeep.register(self)
        self._watch_expiry()
        if self.degraded:
            self._start_degraded_poll()

    async def _send_presence(self, online: list[int]) -> None:
        for user_id in online:
            key = wire_id(user_id)  # as live presence frames carry it
            if self.seen_presence.get(key) is not True:
                self.seen_presence[key] = True
                await self._send_json(events.presence(user_id=user_id, online=True))

    async def _presence_snapshot(self, conversation_ids: list[int]) -> None:
        """Presence of the co-members of these conversations who are online now."""
        assert self.grant is not None
        me = self.grant.user.pk

        def online() -> list[int]:
            return sorted(presence.online_users(commands.co_members(user_id=me, conversation_ids=conversation_ids)))

        await self._send_presence(await db_call(online)())

    @property
    def user_id(self) -> int | None:
        return self.grant.user.pk if self.grant is not None else None

    async def disconnect(self, code: int) -> None:
        await self._release()

    async def _release(self) -> None:
        """Give back what the socket holds: its groups and its presence count. Runs once,
        whether the client closed cleanly or vanished while we were sending."""
        if self.released:
            return
        self.released = True
        self.closing = True
        upkeep.unregister(self)
        if self.expiry is not None:
            self.expiry.cancel()
        for task in self.tasks:
            task.cancel()
        if self.channel_layer is not None:
            for group in list(self.subscribed):
                await self._layer_call(self.channel_layer.group_discard(group, self.channel_name))
        self.subscribed.clear()
        if self.counted and self.grant is not None:
            user_id = self.grant.user.pk
            if await db_call(commands.socket_close)(user_id=user_id):
                offline = events.presence(user_id=user_id, online=False)
                for cid in self.grant.presence_in:
                    events.publish_ephemeral(offline, conversation=cid)

    # --- Background duties ------------------------------------------------------------------

    def _start_degraded_poll(self) -> None:
        if self.grant is not None and not any(t.get_name() == "degraded-poll" for t in self.tasks if not t.done()):
            self.tasks.append(asyncio.get_running_loop().create_task(self._degraded_poll(), name="degraded-poll"))

    async def _degraded_poll(self) -> None:
        """A socket without a channel layer polls: it checks that its session still
        stands (it cannot hear a logout), catches up, and tries to re-attach."""
        assert self.grant is not None
        while self.degraded and not self.closing:
            await asyncio.sleep(parley_settings.WS_DEGRADED_POLL_SECONDS)
            if not await db_call(commands.socket_still_authorized)(self.grant):
                await self._send_error(None, "session_ended", "Access ended.")
                await self._close(CLOSE_UNAUTHORIZED)
                return
            async with self.lock:
                if await self._attach_layer():
                    logger.info("channel layer back; socket re-attached")
            await self.resync()

    async def resync(self, latest: dict[int, int] | None = None) -> None:
        """Send whatever the database has past this socket's cursors (chat.upkeep calls
        this with the latest seqs it read for the whole process)."""
        if latest is None:
            latest = await db_call(commands.socket_last_seqs)(conversation_ids=list(self.cursors))
        async with self.lock:
            for cid, seq in latest.items():
                if cid in self.cursors and seq > self.cursors[cid]:
                    await self._fill(cid)

    def _watch_expiry(self) -> None:
        """Close with 4401 when the token expires (an `auth` frame moves the deadline)."""
        if self.expiry is not None:
            self.expiry.cancel()
        if self.grant is None:
            return
        if self.grant.auth.expires_at is None:  # a session socket: revoked by logout only
            return
        delay = max(0.0, self.grant.auth.expires_at - time.time())
        self.expiry = asyncio.get_running_loop().call_later(delay, self._expired)

    def _expired(self) -> None:
        self.tasks.append(asyncio.ensure_future(self._close_expired()))

    async def _close_expired(self) -> None:
        await self._send_error(None, "token_expired", "The access token expired; reconnect with a new one.")
        await self._close(CLOSE_UNAUTHORIZED)

    # --- Client frames ----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        await self._receive(text_data, bytes_data)
        if self.grant is None and not self.closing:
            # A socket without a token must send the auth frame first (docs/websocket.md):
            # whatever else it sent, the error frame said why; it does not wait for the timeout.
            await self._close(CLOSE_UNAUTHORIZED)

    async def _receive(self, text_data: str | None, bytes_data: bytes | None) -> None:
        if text_data is None:
            await self._send_error(None, "binary_not_supported", "Send JSON text frames.")
            return
        limit = parley_settings.WS_MAX_FRAME_BYTES
        if len(text_data) > limit or (len(text_data) * 4 > limit and len(text_data.encode()) > limit):
            await self._send_error(
                None, "frame_too_large", f"Frames are limited to {parley_settings.WS_MAX_FRAME_BYTES} bytes."
            )
            return
        if not self.budget.take():
            if self.budget.flooding:
                await self._send_error(None, "flooding", "Too many frames; closing.")
                await self._close(CLOSE_TOO_MANY)
            else:
                await self._send_error(None, "rate_limited", "Too many frames; slow down.")
            return
        try:
            frame = json.loads(text_data)
        except json.JSONDecodeError:
            await self._send_error(None, "invalid_json", "Frames must be JSON objects.")
            return
        except RecursionError:  # `[[[[...` deeper than the decoder recurses: refused, not fatal
            await self._send_error(None, "invalid_json", "Frames must not nest that deeply.")
            return
        if not isinstance(frame, dict):
            await self._send_error(None, "invalid_frame", "Frames must be JSON objects.")
            return
        ref = frame.get("ref")
        if ref is not None and not isinstance(ref, str | int):
            ref = None
        kind = legacy.command_kind(frame)  # legacy protocol hook: the original's frames are aliases
        if not isinstance(kind, str):
            await self._send_error(ref, "unknown_type", "'type' must be a string naming a command.")
            return
        try:
            await self._command(kind, frame, ref)
        except AppError as error:
            await self._send_error(ref, error.code, error.detail)
        except Exception:
            logger.exception("websocket command %r failed", kind)
            await self._send_error(ref, "server_error", "The command failed; it was not applied.")

    async def _command(self, kind: str, frame: dict[str, Any], ref: Any) -> None:
        if kind == "auth":
            await self._auth_frame(frame, ref)
            return
        if self.grant is None:
            raise NotAuthenticated("Authenticate first (auth frame or ?token=).")
        if kind == "ping":
            await self._send_json({"type": "pong", "ref": ref})
            return
        handler = {
            "message.send": self._send_message,
            "message.edit": self._edit_message,
            "message.delete": self._delete_message,
            "message.read": self._read_message,
            "typing": self._typing,
        }.get(kind)
        if handler is None:
            raise AppError(f"Unknown frame type {kind!r}.", code="unknown_type")
        await handler(frame, ref, self._target(frame))

    def _target(self, frame: dict[str, Any]) -> int:
        """The conversation a command is about: the socket's, or the frame's on /ws/chat/."""
        named = frame.get("conversation")
        if self.conversation_id is not None:
            if named is not None and named != self.conversation_id:
                raise AppError("This socket serves another conversation.", code="wrong_conversation")
            return self.conversation_id
        if not isinstance(named, int) or isinstance(named, bool):
            raise AppError("Name the 'conversation' (an id) on the user socket.", code="missing_field")
        if named not in self.cursors:
            raise NotParticipant()
        return named

    async def _auth_frame(self, frame: dict[str, Any], ref: Any) -> None:
        token = frame.get("token")
        if not isinstance(token, str) or not token:
            raise AppError("The auth frame needs a 'token'.", code="missing_field")
        if self.grant is None:
            await self._open(token)
            return
        try:
            auth = await db_call(commands.socket_reauthenticate)(token=token, user_id=self.grant.user.pk)
        except NotFound as error:
            raise NotAuthenticated(error.detail, code=error.code) from None
        self.grant.auth = auth
        self._watch_expiry()
        await self._send_json({"type": "ack", "ref": ref, "expires_at": auth.expires_at})

    async def _send_message(self, frame: dict[str, Any], ref: Any, cid: int) -> None:
        assert self.grant is not None
        message = await db_command(commands.command_send)(
            user=self.grant.user, conversation_id=cid, content=frame.get("content"), client_id=frame.get("client_id")
        )
        await self._send_json({"type": "ack", "ref": ref, "message": message})

    async def _edit_message(self, frame: dict[str, Any], ref: Any, cid: int) -> None:
        assert self.grant is not None
        self._require(frame, "message_id", "content")
        message = await db_command(commands.command_edit)(
            user=self.grant.user, conversation_id=cid, message_id=frame["message_id"], content=frame["content"]
        )
        await self._send_json({"type": "ack", "ref": ref, "message": message})

    async def _delete_message(self, frame: dict[str, Any], ref: Any, cid: int) -> None:
        assert self.grant is not None
        self._require(frame, "message_id")
        message = await db_command(commands.command_delete)(
            user=self.grant.user, conversation_id=cid, message_id=frame["message_id"]
        )
        await self._send_json({"type": "ack", "ref": ref, "message": message})

    async def _read_message(self, frame: dict[str, Any], ref: Any, cid: int) -> None:
        assert self.grant is not None
        self._require(frame, "message_id")
        message = await db_command(commands.command_read)(
            user=self.grant.user, conversation_id=cid, message_id=frame["message_id"]
        )
        await self._send_json({"type": "ack", "ref": ref, "message": message})

    async def _typing(self, frame: dict[str, Any], ref: Any, cid: int) -> None:
        """Ephemeral: not stored, not acknowledged unless a `ref` is given. A start is
        forwarded at most once per CHAT_TYPING_INTERVAL_SECONDS per conversation, a stop
        only after a forwarded start; everything else is coalesced (dropped quietly)."""
        assert self.grant is not None
        is_typing = frame.get("is_typing", True)
        if not isinstance(is_typing, bool):
            raise AppError("'is_typing' must be true or false.", code="invalid_field")
        now = time.monotonic()
        last_start, typing_shown = self.typing_sent.get(cid, (-1e9, False))
        forward = now - last_start >= parley_settings.TYPING_INTERVAL_SECONDS if is_typing else typing_shown
        if not forward:
            if ref is not None:
                await self._send_json({"type": "ack", "ref": ref, "forwarded": False})
            return
        self.typing_sent[cid] = (now if is_typing else last_start, is_typing)
        events.publish_ephemeral(
            events.typing(
                conversation_id=cid, user_id=self.grant.user_wire_id, username=self.grant.name, is_typing=is_typing
            ),
            conversation=cid,
        )
        if ref is not None:
            await self._send_json({"type": "ack", "ref": ref, "forwarded": True})

    @staticmethod
    def _require(frame: dict[str, Any], *names: str) -> None:
        missing = [n for n in names if n not in frame]
        if missing:
            raise AppError(f"Missing field(s): {', '.join(missing)}.", code="missing_field")

    # --- Channel-layer messages (published by chat.events) ---------------------------------------

    async def parley_event(self, message: dict[str, Any]) -> None:
        if self._backlog() > parley_settings.WS_MAX_BACKLOG:
            logger.info("closing a socket %d frames behind", self._backlog())
            await self._give_up_on_slow_client()
        meta = message["meta"]
        cid = meta["conversation"]
        kind = meta["type"]
        if self.grant is None or self.closing:
            return
        if kind == "conversation.removed":
            # The group was deleted. The user socket hears it on the user group too.
            await self._unsubscribe(cid)
            if self.conversation_id == cid:
                await self._send_text(message["text"])
                await self._close(CLOSE_NOT_FOUND)
            return
        if meta["seq"] is None:  # ephemeral: typing, presence
            if kind == "typing" and meta["user"] == self.grant.user_wire_id:
                return  # never echo typing to the typist
            if kind == "presence":
                online = json.loads(message["text"])["online"]
                if self.seen_presence.get(meta["user"]) == online or meta["user"] == self.grant.user_wire_id:
                    return
                self.seen_presence[meta["user"]] = online
            if cid in self.cursors or kind == "presence":
                await self._send_text(message["text"])
            return
        async with self.lock:
            await self._deliver_live(cid, meta, message["text"])

    async def parley_user(self, message: dict[str, Any]) -> None:
        """Per-user frames: a conversation appeared for, or disappeared from, this user."""
        meta = message["meta"]
        cid = meta["conversation"]
        if self.grant is None or self.closing:
            return
        if meta["type"] == "conversation.created":
            if self.conversation_id is not None:
                return
            async with self.lock:
                if cid not in self.cursors:
                    frame = json.loads(message["text"])
                    await self._subscribe(events.conversation_group(cid))
                    self.cursors[cid] = frame["conversation"]["last_seq"]
                    if cid not in self.grant.member_of:
                        self.grant.member_of.append(cid)
                    await self._send_text(message["text"])
                    await self._fill(cid)  # anything committed before we subscribed
            participants = json.loads(message["text"])["conversation"].get("participants", [])
            if len(participants) <= parley_settings.PRESENCE_MAX_MEMBERS:
                if cid not in self.grant.presence_in:
                    self.grant.presence_in.append(cid)
                await self._presence_snapshot([cid])
            return
        if meta["type"] == "conversation.removed":
            await self._unsubscribe(cid)
            if cid in self.grant.member_of:
                self.grant.member_of.remove(cid)
            if self.conversation_id is None:
                await self._send_text(message["text"])
            elif self.conversation_id == cid:
                await self._send_text(message["text"])
                await self._close(CLOSE_NOT_FOUND if meta["reason"] == "deleted" else CLOSE_FORBIDDEN)
            return
        if self.conversation_id is None:
            await self._send_text(message["text"])

    async def parley_revoke(self, message: dict[str, Any]) -> None:
        if self.grant is None:
            return
        if message.get("session_id") in (None, self.grant.auth.session_id):
            await self._send_error(None, "session_ended", f"Access ended: {message.get('reason')}.")
            await self._close(CLOSE_UNAUTHORIZED)

    # --- Ordered delivery ---------------------------------------------------------------------

    async def _deliver_live(self, cid: int, meta: dict[str, Any], text: str) -> None:
        cursor = self.cursors.get(cid)
        if cursor is None or meta["seq"] <= cursor:
            return
        if meta["seq"] > cursor + 1:
            await self._fill(cid)
            if meta["seq"] <= self.cursors.get(cid, meta["seq"]):
                return
        self.cursors[cid] = meta["seq"]
        await self._send_text(text)
        await self._after_durable(cid, meta["type"], meta["user"])

    async def _fill(self, cid: int) -> None:
        """Send what the database has after the cursor (the caller holds the lock)."""
        assert self.grant is not None
        cursor = self.cursors.get(cid)
        if cursor is None:
            return
        frames, still_member = await db_call(commands.socket_fill_gap)(
            user_id=self.grant.user.pk, conversation_id=cid, after=cursor
        )
        await self._legacy_learn(frames)  # legacy protocol hook
        for frame in frames:
            await self._deliver_stored(frame)
        if not still_member:
            await self._unsubscribe(cid)
            if self.conversation_id == cid:
                await self._close(CLOSE_FORBIDDEN)

    async def _deliver_stored(self, frame: events.DurableFrame) -> None:
        cid, seq = frame["conversation"], frame["seq"]
        if cid not in self.cursors or seq <= self.cursors[cid]:
            return
        self.cursors[cid] = seq
        await self._send_json(frame)
        await self._after_durable(cid, frame["type"], frame.get("user"))

    async def _after_durable(self, cid: int, kind: str, user: Any) -> None:
        """A member.removed naming this user ends its subscription at once."""
        assert self.grant is not None
        if kind == "member.removed" and user == self.grant.user_wire_id:
            await self._unsubscribe(cid)
            if self.conversation_id == cid:
                await self._close(CLOSE_FORBIDDEN)

    # --- Legacy protocol hooks (parley.legacy; SPEC 9) -------------------------------------------

    def _legacy_protocol(self, raw: str | None) -> str | None:
        """Choose the socket's protocol from `?protocol=`; a refusal closes it with 4400."""
        self.legacy = legacy.Names() if raw == legacy.PROTOCOL else None
        return legacy.protocol_refusal(raw, conversation_socket=self.conversation_id is not None)

    async def _legacy_learn(self, frames: list[events.DurableFrame], *, members_of: int | None = None) -> None:
        """Resolve the usernames a batch of frames needs in one lookup; on open, also every
        member's, so that live frames of members never wait for the database."""
        if self.legacy is None:
            return
        wanted = self.legacy.prepare(frames)
        if wanted or members_of is not None:
            self.legacy.learn(
                await db_call(commands.legacy_names)(
                    user_ids=wanted.user_ids, message_ids=wanted.message_ids, conversation_id=members_of
                )
            )

    async def _legacy_translate(self, text: str) -> str | None:
        assert self.legacy is not None
        frame = json.loads(text)
        await self._legacy_learn([frame])
        translated = legacy.translate(frame, self.legacy)
        return None if translated is None else json.dumps(translated, separators=(",", ":"))

    # --- Plumbing ---------------------------------------------------------------------------------

    async def _subscribe(self, group: str) -> None:
        if group not in self.subscribed:
            self.subscribed.add(group)
            if self.channel_layer is not None and not self.degraded:
                await self._layer_call(self.channel_layer.group_add(group, self.channel_name))

    async def _unsubscribe(self, cid: int) -> None:
        self.cursors.pop(cid, None)
        group = events.conversation_group(cid)
        if group in self.subscribed:
            self.subscribed.discard(group)
            if self.channel_layer is not None:
                await self._layer_call(self.channel_layer.group_discard(group, self.channel_name))

    async def _layer_call(self, call: Any) -> None:
        """(Un)subscribe with a timeout; a layer failure degrades this socket to polling."""
        try:
            await asyncio.wait_for(call, timeout=parley_settings.PUBLISH_TIMEOUT * 4)
        except Exception as exc:  # noqa: BLE001
            logger.warning("channel layer call failed, socket degraded to polling: %s", exc.__class__.__name__)
            self.degraded = True
            if self.grant is not None and not self.closing:
                self._start_degraded_poll()

    async def _send_json(self, frame: Mapping[str, Any]) -> None:
        await self._send_text(json.dumps(frame, separators=(",", ":")))

    async def _send_text(self, text: str) -> None:
        """Send, or give up on a client that does not read: frames for it would pile up in
        the channel layer's queue while we wait. It reconnects and catches up by `seq`."""
        if self.closing:
            return
        if self.legacy is not None:  # legacy protocol hook: translate after the ordered delivery
            translated = await self._legacy_translate(text)
            if translated is None:
                return
            text = translated
        send = asyncio.ensure_future(self.send(text_data=text))
        deadline = time.monotonic() + parley_settings.WS_SEND_TIMEOUT_SECONDS
        # While the send is blocked, frames for this socket pile up in the channel
        # layer's queue, as fast as they are published: look at that pile every
        # SEND_CHECK_SECONDS, not only when the send times out (at 250 sends/s, 10 s
        # of a stalled reader held 8 MB per batch in tests/test_slow_reader.py).
        try:
            while not (await asyncio.wait((send,), timeout=SEND_CHECK_SECONDS))[0]:
                backlog = self._backlog()
                if backlog > parley_settings.WS_MAX_BACKLOG or time.monotonic() >= deadline:
                    send.cancel()
                    logger.info("closing a socket that stopped reading (%d frames behind)", backlog)
                    await self._give_up_on_slow_client()
        except asyncio.CancelledError:  # the consumer is stopping: the send goes with it
            send.cancel()
            raise
        try:
            send.result()
        except OSError:  # the client is gone (uvicorn's ClientDisconnected)
            self.closing = True
            raise StopConsumer() from None

    def _backlog(self) -> int:
        """Frames waiting in the channel layer for this socket (0 if the layer hides it)."""
        layer: Any = self.channel_layer
        if layer is None:
            return 0
        try:
            per_loop = layer._get_layer() if hasattr(layer, "_get_layer") else layer
            queue = per_loop.channels.get(self.channel_name)
            return int(queue.qsize()) if queue is not None else 0
        except Exception:  # noqa: BLE001 - internals of a layer we do not know
            return 0

    async def _give_up_on_slow_client(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.base_send({"type": "websocket.close", "code": CLOSE_TOO_SLOW}), timeout=1)
        raise StopConsumer()

    async def _send_error(self, ref: Any, code: str, detail: str) -> None:
        await self._send_json({"type": "error", "ref": ref, "code": code, "detail": detail})

    async def _close(self, code: int) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code=code)

"""An authenticated socket: what it listens to, what it is told, and when that ends.

The consumer authenticates (the handshake's first thread hop) and then hands over to
a Session, which owns everything that follows:

    start        subscribe, then the second hop: catch-up, presence, `ready`
    on_event     conversation frames from the channel layer (delivery, ephemeral)
    on_user      per-user frames: a conversation appeared or disappeared
    on_revoke    a logout, password change or deactivation: close 4401
    resync       what the database has past the cursors (upkeep, degraded polling)
    end          leave the groups, give the presence count back

It is delivery's Port, and talks to the client only through the consumer's
`Transport` (send a frame, send encoded text, close).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine, Mapping
from typing import Any, Protocol

from parley import events
from parley.common.errors import NotAuthenticated, NotFound
from parley.conf import parley_settings
from parley.realtime import commands, presence
from parley.realtime.dbcalls import db_call
from parley.realtime.delivery import Delivery
from parley.realtime.ephemeral import Ephemeral, TypingGate
from parley.realtime.layer import LayerLink
from parley.realtime.legacy_wire import LegacyWire
from parley.realtime.protocol import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_RESYNC_REQUIRED, CLOSE_UNAUTHORIZED
from parley.users import wire_id


class Transport(Protocol):
    closing: bool

    async def send_frame(self, frame: Mapping[str, Any]) -> None: ...

    async def send_text(self, text: str) -> None: ...

    async def close_with(self, code: int, error: events.Error | None = None) -> None: ...

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str | None = None) -> None: ...


class Session:
    def __init__(
        self,
        transport: Transport,
        grant: commands.SocketGrant,
        link: LayerLink,
        *,
        conversation_id: int | None,
        wire: LegacyWire | None,
    ) -> None:
        self.transport, self.grant, self.link, self.wire = transport, grant, link, wire
        self.conversation_id = conversation_id  # None: the user socket
        self.me = grant.user_wire_id
        self.delivery = Delivery(self)
        self.ephemeral = Ephemeral(self.me)
        self._typing = TypingGate()
        self._expiry: asyncio.TimerHandle | None = None
        self.counted = False  # in the user's socket count (the catch-up hop counts it)

    @property
    def closing(self) -> bool:
        return self.transport.closing

    async def close_with(self, code: int) -> None:
        """Close the socket (parley.shutdown closes every session with 1012)."""
        await self.transport.close_with(code)

    @property
    def cursors(self) -> dict[int, int]:
        return self.delivery.cursors

    @property
    def user_id(self) -> Any:
        return self.grant.user.pk

    async def start(self, since: dict[int, int]) -> bool:
        """Subscribe, catch up, say `ready`; False if the socket closed on the way."""
        grant = self.grant
        await self.link.subscribe(events.user_group(grant.user.pk))
        for cid in grant.subscribe:
            await self.link.subscribe(events.conversation_group(cid))
        catch_up = await db_call(commands.socket_catch_up)(
            user_id=grant.user.pk,
            conversation_ids=grant.subscribe,
            since=since,
            all_conversations=self.conversation_id is None,
            presence_in=grant.presence_in,
        )
        self.counted = True
        if catch_up.announce:  # before any send: if the client is gone, end() announces offline
            self._announce(online=True)
        async with self.delivery.lock:
            for cid in catch_up.left:
                await self.left(cid)
            if self.closing:
                return False
            if self.wire is not None:
                await self.wire.learn(catch_up.frames, members_of=self.conversation_id)
            await self.delivery.start(catch_up.cursors, catch_up.frames)
            for cid, oldest in catch_up.resync.items():  # history after `since` was pruned (parley.retention)
                await self.transport.send_frame(events.resync_required(conversation_id=cid, oldest_seq=oldest))
            if self.conversation_id is not None and catch_up.resync:
                await self.transport.close_with(CLOSE_RESYNC_REQUIRED)
                return False
            # Joined between the grant and our subscribing to the user group (user socket
            # only): their conversation.created went by unheard.
            for cid, seq in catch_up.joined.items():
                await self.subscribe(cid)
                self.delivery.track(cid, seq)
        # Who is online comes in `ready`, one frame: 99 `presence` frames per socket in
        # groups of 100 were a third of a reconnect storm's work (bench S7).
        online = None if catch_up.online is None else [wire_id(user_id) for user_id in catch_up.online]
        for user in online or ():
            self.ephemeral.changed(user, True)  # a live frame saying the same is not repeated
        await self.transport.send_frame(events.ready(user_id=grant.user.pk, cursors=self.cursors, online=online))
        self._watch_expiry()
        return True

    async def end(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        await self.link.leave()
        if self.counted and await db_call(commands.socket_close)(user_id=self.grant.user.pk):
            self._announce(online=False)

    # --- Channel-layer messages ------------------------------------------------------------

    async def on_event(self, message: dict[str, Any]) -> None:
        meta, text = message["meta"], message["text"]
        cid, kind = meta["conversation"], meta["type"]
        if kind == "conversation.removed":  # deleted; the user socket hears it on the user group too
            await self._stop_listening(cid)
            if self.conversation_id == cid:
                await self.transport.send_text(text)
                await self.transport.close_with(CLOSE_NOT_FOUND)
        elif meta["seq"] is None:  # typing, presence
            if self.ephemeral.forward(meta, text, followed=self.cursors):
                await self.transport.send_text(text)
        else:
            await self.delivery.live(cid, meta["seq"], kind, meta["user"], text)

    async def on_user(self, message: dict[str, Any]) -> None:
        meta, text = message["meta"], message["text"]
        cid, kind = meta["conversation"], meta["type"]
        if kind == "conversation.created":
            if self.conversation_id is None:
                conversation = json.loads(text)["conversation"]
                await self.delivery.joined(cid, conversation["last_seq"], text)
                if len(conversation.get("participants", [])) <= parley_settings.PRESENCE_MAX_MEMBERS:
                    if cid not in self.grant.presence_in:
                        self.grant.presence_in.append(cid)
                    online = db_call(commands.socket_online_co_members)
                    await self._tell_online(await online(user_id=self.user_id, conversation_ids=[cid]))
            return
        if kind == "conversation.removed":
            await self._stop_listening(cid)
            if self.conversation_id == cid:
                await self.transport.send_text(text)
                await self.transport.close_with(CLOSE_NOT_FOUND if meta["reason"] == "deleted" else CLOSE_FORBIDDEN)
                return
        if self.conversation_id is None:
            await self.transport.send_text(text)

    async def on_revoke(self, message: dict[str, Any]) -> None:
        if message.get("session_id") in (None, self.grant.auth.session_id):
            await self._session_over(f"Access ended: {message.get('reason')}.")

    # --- Catching up without the layer ----------------------------------------------------------

    async def resync(self, latest: dict[int, int] | None = None) -> None:
        """Send what the database has past the cursors (parley.realtime.upkeep passes the
        latest seqs it read for the whole process)."""
        if latest is None:
            latest = await db_call(commands.socket_last_seqs)(conversation_ids=list(self.cursors))
        await self.delivery.resync(latest)

    async def reauthenticate(self, token: str) -> int | None:
        """A fresh token (the same user's) moves the expiry; returns the new one."""
        try:
            self.grant.auth = await db_call(commands.socket_reauthenticate)(token=token, user_id=self.user_id)
        except NotFound as error:
            raise NotAuthenticated(error.detail, code=error.code) from None
        self._watch_expiry()
        return self.grant.auth.expires_at

    async def still_authorized(self) -> bool:
        return bool(await db_call(commands.socket_still_authorized)(self.grant))

    async def session_ended(self) -> None:
        await self._session_over("Access ended.")

    # --- delivery.Port --------------------------------------------------------------------------

    async def emit(self, frame: Mapping[str, Any]) -> None:
        await self.transport.send_frame(frame)

    async def emit_text(self, text: str) -> None:
        await self.transport.send_text(text)

    async def read_after(self, conversation_id: int, after: int) -> tuple[list[Mapping[str, Any]], bool]:
        frames, still_member = await db_call(commands.socket_fill_gap)(
            user_id=self.user_id, conversation_id=conversation_id, after=after
        )
        return list(frames), still_member

    async def learn(self, frames: list[Mapping[str, Any]]) -> None:
        if self.wire is not None:
            await self.wire.learn(frames)

    async def subscribe(self, conversation_id: int) -> None:
        await self.link.subscribe(events.conversation_group(conversation_id))

    async def left(self, conversation_id: int) -> None:
        await self._stop_listening(conversation_id)
        if self.conversation_id == conversation_id:
            await self.transport.close_with(CLOSE_FORBIDDEN)

    async def _stop_listening(self, conversation_id: int) -> None:
        self.delivery.forget(conversation_id)
        await self.link.unsubscribe(events.conversation_group(conversation_id))

    # --- Typing, presence and expiry -------------------------------------------------------------

    def typing_sent(self, conversation_id: int, is_typing: bool) -> bool:
        """Publish this user's typing start or stop, unless it is coalesced (TypingGate)."""
        if not self._typing.allow(conversation_id, is_typing):
            return False
        frame = events.typing(
            conversation_id=conversation_id, user_id=self.user_id, username=self.grant.name, is_typing=is_typing
        )
        events.publish_ephemeral(frame, conversation=conversation_id)
        return True

    def _announce(self, *, online: bool) -> None:
        presence.announce(self.user_id, online=online, conversations=self.grant.presence_in)

    async def _tell_online(self, user_ids: list[Any]) -> None:
        for user_id in user_ids:
            if self.ephemeral.changed(wire_id(user_id), True):  # keyed as live presence frames are
                await self.transport.send_frame(events.presence(user_id=user_id, online=True))

    def _watch_expiry(self) -> None:
        """Close with 4401 when the token expires (an `auth` frame moves the deadline)."""
        if self._expiry is not None:
            self._expiry.cancel()
        expires_at = self.grant.auth.expires_at
        if expires_at is None:  # a session socket: revoked by logout only
            return
        delay = max(0.0, expires_at - time.time())
        expired = "The access token expired; reconnect with a new one."
        self._expiry = asyncio.get_running_loop().call_later(
            delay, lambda: self.transport.spawn(self._session_over(expired, code="token_expired"))
        )

    async def _session_over(self, detail: str, *, code: str = "session_ended") -> None:
        await self.transport.close_with(CLOSE_UNAUTHORIZED, events.error(ref=None, code=code, detail=detail))

"""Ordered delivery for one socket: a cursor per conversation, no gap, no duplicate.

The cursor is the last `seq` sent. A live frame at `cursor + 1` is sent; one at or
below the cursor is a duplicate and dropped; one further ahead means frames were missed
(the channel layer is at-most-once), so the gap is read from the database first. The
consumer subscribes before the catch-up read, so a reconnecting client with `since`
gets every event after it exactly once; a `member.removed` naming this user ends that
conversation for the socket.

Plain Python: every effect goes through the `Port` the consumer implements, and
tests/test_delivery.py drives this class with an in-memory one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol


class Port(Protocol):
    me: Any  # the socket's user, as frames name users (parley.users.wire_id)

    async def emit(self, frame: Mapping[str, Any]) -> None: ...

    async def emit_text(self, text: str) -> None: ...

    async def read_after(self, conversation_id: int, after: int) -> tuple[list[Mapping[str, Any]], bool]:
        """The durable frames after `after`, and whether the user is still a member."""
        ...

    async def learn(self, frames: list[Mapping[str, Any]]) -> None:
        """A batch is about to be emitted (the legacy protocol resolves names here)."""
        ...

    async def subscribe(self, conversation_id: int) -> None: ...

    async def left(self, conversation_id: int) -> None:
        """The user is no longer a member: stop listening (a conversation socket closes)."""
        ...


class Delivery:
    def __init__(self, port: Port) -> None:
        self.port = port
        self.cursors: dict[int, int] = {}
        # Held while frames of any conversation are sent, so that a live frame, a gap
        # fill and a resync never interleave their sends.
        self.lock = asyncio.Lock()

    def track(self, conversation_id: int, seq: int) -> None:
        self.cursors[conversation_id] = seq

    def forget(self, conversation_id: int) -> None:
        self.cursors.pop(conversation_id, None)

    async def start(self, cursors: Mapping[int, int], frames: list[Mapping[str, Any]]) -> None:
        """The catch-up of a socket that opens (the caller holds the lock): each cursor
        starts at the client's `since`, and sending the frames moves it forward."""
        self.cursors.update(cursors)
        for frame in frames:
            await self._stored(frame)

    async def live(self, conversation_id: int, seq: int, kind: str, user: Any, text: str) -> None:
        """A durable frame from the channel layer, already encoded."""
        async with self.lock:
            cursor = self.cursors.get(conversation_id)
            if cursor is None or seq <= cursor:
                return
            if seq > cursor + 1:
                await self._fill(conversation_id)
                if seq <= self.cursors.get(conversation_id, seq):
                    return
            self.cursors[conversation_id] = seq
            await self.port.emit_text(text)
            await self._after(conversation_id, kind, user)

    async def joined(self, conversation_id: int, seq: int, text: str) -> bool:
        """A conversation the user was added to (`conversation.created`): listen from
        `seq`, send the frame, then anything committed before the subscription held.
        False if the socket already follows it."""
        async with self.lock:
            if conversation_id in self.cursors:
                return False
            await self.port.subscribe(conversation_id)
            self.cursors[conversation_id] = seq
            await self.port.emit_text(text)
            await self._fill(conversation_id)
            return True

    async def resync(self, latest: Mapping[int, int]) -> None:
        """Send what the database has past the cursors (`latest`: the last seqs it read)."""
        async with self.lock:
            for conversation_id, seq in latest.items():
                if conversation_id in self.cursors and seq > self.cursors[conversation_id]:
                    await self._fill(conversation_id)

    async def _fill(self, conversation_id: int) -> None:
        cursor = self.cursors.get(conversation_id)
        if cursor is None:
            return
        frames, still_member = await self.port.read_after(conversation_id, cursor)
        await self.port.learn(frames)
        for frame in frames:
            await self._stored(frame)
        if not still_member:
            await self._left(conversation_id)

    async def _stored(self, frame: Mapping[str, Any]) -> None:
        conversation_id, seq = frame["conversation"], frame["seq"]
        if conversation_id not in self.cursors or seq <= self.cursors[conversation_id]:
            return
        self.cursors[conversation_id] = seq
        await self.port.emit(frame)
        await self._after(conversation_id, frame["type"], frame.get("user"))

    async def _after(self, conversation_id: int, kind: str, user: Any) -> None:
        if kind == "member.removed" and user == self.port.me:
            await self._left(conversation_id)

    async def _left(self, conversation_id: int) -> None:
        if self.cursors.pop(conversation_id, None) is not None:
            await self.port.left(conversation_id)

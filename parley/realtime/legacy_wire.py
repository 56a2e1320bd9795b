"""A socket opened with `?protocol=legacy`: our frames, translated at the last step.

Translation happens after the delivery logic (cursors, dedupe, gap fill, catch-up)
decided what to send, so the protocol changes what a frame looks like, never which
durable events are delivered or in what order (parley.legacy has the table).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from parley import legacy

Lookup = Callable[..., Awaitable[legacy.Lookup]]  # parley.realtime.commands.legacy_names, off-thread


class LegacyWire:
    def __init__(self, lookup: Lookup) -> None:
        self.names = legacy.Names()
        self._lookup = lookup

    async def learn(self, frames: Collection[Mapping[str, Any]], *, members_of: int | None = None) -> None:
        """Resolve the usernames a batch of frames needs in one lookup; on open, also every
        member's, so that live frames of members never wait for the database."""
        wanted = self.names.prepare(frames)
        if wanted or members_of is not None:
            self.names.learn(
                await self._lookup(user_ids=wanted.user_ids, message_ids=wanted.message_ids, conversation_id=members_of)
            )

    async def translate(self, text: str) -> str | None:
        frame = json.loads(text)
        await self.learn([frame])
        translated = legacy.translate(frame, self.names)
        return None if translated is None else json.dumps(translated, separators=(",", ":"))

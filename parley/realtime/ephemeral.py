"""Typing and presence on one socket: never stored, so only what is worth a frame is sent.

TypingGate   what this socket's typist publishes: a start at most once per
             TYPING_INTERVAL_SECONDS per conversation, a stop only after a start
Ephemeral    what this socket forwards: never the user's own typing or presence,
             a presence only when it changes, typing only of followed conversations
"""

from __future__ import annotations

import json
import time
from collections.abc import Container, Mapping
from typing import Any

from parley.conf import parley_settings


class TypingGate:
    def __init__(self) -> None:
        self._sent: dict[int, tuple[float, bool]] = {}  # conversation -> (last start, shown)

    def allow(self, conversation_id: int, is_typing: bool) -> bool:
        """Whether to publish this start or stop; the rest is coalesced (dropped)."""
        now = time.monotonic()
        last_start, shown = self._sent.get(conversation_id, (-1e9, False))
        forward = now - last_start >= parley_settings.TYPING_INTERVAL_SECONDS if is_typing else shown
        if forward:
            self._sent[conversation_id] = (now if is_typing else last_start, is_typing)
        return forward


class Ephemeral:
    def __init__(self, me: Any) -> None:
        self.me = me  # the socket's user, as frames name users
        self.online: dict[Any, bool] = {}  # what this socket last told about each user

    def forward(self, meta: Mapping[str, Any], text: str, *, followed: Container[int]) -> bool:
        """A typing or presence frame from the channel layer: send it on?"""
        kind, user = meta["type"], meta["user"]
        if user == self.me:
            return False  # never echo typing to the typist, nor their own presence
        if kind == "presence":
            return self.changed(user, bool(json.loads(text)["online"]))
        return meta["conversation"] in followed

    def changed(self, user: Any, online: bool) -> bool:
        """Record that the socket is told `user` is `online`; False if it already knew."""
        if self.online.get(user) == online:
            return False
        self.online[user] = online
        return True

"""Who is pushed for a new message: the member's level and mute, and mentions.

The rule, as SPEC 12 and 10 give it (tests/test_notify_preferences.py holds it as a table):

    level      muted   mentioned   pushed
    none       any     any         no
    all        no      any         yes
    all        yes     no          no
    mentions   any     no          no
    any other  any     yes         yes      (a mention always reaches, unless `none`)

`mentioned_user_ids` is the one place that decides whether a message mentions a member.
Until messages carry their own mentions list (branch chat-features), it reads
`@username` in the content; pass the message's explicit mentions as `explicit` and
they count too. Point it at the real mentions when they land.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

MENTION = re.compile(r"(?<![\w@])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


def push_wanted(*, level: str, muted_until: datetime | None, mentioned: bool, now: datetime) -> bool:
    if level == "none":
        return False
    if mentioned:
        return True
    muted = muted_until is not None and muted_until > now
    return level == "all" and not muted


def mentioned_user_ids(
    *, content: str, usernames: Mapping[Any, str], explicit: Collection[Any] | None = None
) -> set[Any]:
    """The members (keys of `usernames`: user id -> username) a message mentions:
    `@username` in `content` (case-insensitive, trailing punctuation ignored), and
    every id of `explicit` that is a member."""
    named = {m.rstrip(".-").casefold() for m in MENTION.findall(content or "")}
    found = {user_id for user_id, name in usernames.items() if name and name.casefold() in named}
    if explicit:
        found.update(user_id for user_id in explicit if user_id in usernames)
    return found

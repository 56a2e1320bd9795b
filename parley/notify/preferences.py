"""Who is pushed for a new message: the member's level and mute, and mentions.

The rule, as SPEC 12 and 10 give it (tests/test_notify_preferences.py holds it as a table):

    level      muted   mentioned   pushed
    none       any     any         no
    all        no      any         yes
    all        yes     no          no
    mentions   any     no          no
    any other  any     yes         yes      (a mention always reaches, unless `none`)

Whether a message mentions a member is what its send stored (parley.models.MessageMention:
`@username` in the content and the explicit `mentions` list, members only), so that the
push, `unread_mentions` and the mentions list agree.
"""

from __future__ import annotations

from datetime import datetime


def push_wanted(*, level: str, muted_until: datetime | None, mentioned: bool, now: datetime) -> bool:
    if level == "none":
        return False
    if mentioned:
        return True
    muted = muted_until is not None and muted_until > now
    return level == "all" and not muted

"""Who is pushed for a new message (parley.notify.preferences), as a table. What counts
as a mention is the send's (tests/test_chat_features.py); tests/test_notify_push.py
checks that the push follows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parley.notify.preferences import push_wanted

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PAST = NOW - timedelta(minutes=1)
FUTURE = NOW + timedelta(hours=1)

# level, muted_until, mentioned -> pushed
TABLE = [
    ("all", None, False, True),
    ("all", None, True, True),
    ("all", PAST, False, True),  # a mute that ended
    ("all", FUTURE, False, False),
    ("all", FUTURE, True, True),  # mentions pass a mute
    ("mentions", None, False, False),
    ("mentions", None, True, True),
    ("mentions", FUTURE, False, False),
    ("mentions", FUTURE, True, True),
    ("none", None, False, False),
    ("none", None, True, False),  # `none` is nothing, mentions included
    ("none", FUTURE, True, False),
]


@pytest.mark.parametrize(("level", "muted_until", "mentioned", "pushed"), TABLE)
def test_push_rule(level: str, muted_until: datetime | None, mentioned: bool, pushed: bool) -> None:
    assert push_wanted(level=level, muted_until=muted_until, mentioned=mentioned, now=NOW) is pushed

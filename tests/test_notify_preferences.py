"""Who is pushed for a new message (parley.notify.preferences), as a table, and what
counts as a mention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parley.notify.preferences import mentioned_user_ids, push_wanted

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


MEMBERS = {1: "bob", 2: "Carol", 3: "dave.smith", 4: "erin@example.test"}


@pytest.mark.parametrize(
    ("content", "explicit", "mentioned"),
    [
        ("hi @bob", None, {1}),
        ("@carol, look", None, {2}),  # case-insensitive, punctuation after the name
        ("@dave.smith.", None, {3}),  # a trailing dot ends the sentence, not the name
        ("mail bob@example.test", None, set()),  # an address is not a mention
        ("@erin@example.test ping", None, {4}),  # email usernames (the example host)
        ("@bobby", None, set()),
        ("no mention", [2, 99], {2}),  # the explicit list counts; non-members do not
        ("", None, set()),
    ],
)
def test_mentions(content: str, explicit: list[int] | None, mentioned: set[int]) -> None:
    assert mentioned_user_ids(content=content, usernames=MEMBERS, explicit=explicit) == mentioned

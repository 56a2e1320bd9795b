"""Who blocked whom, as the API and the services read it.

A block is one row, `blocker` -> `blocked`; the refusals (parley.services.blocks) look
at the pair from either side, `sender_blocked` only at the caller's own blocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from parley.models import Block
from parley.users import display_names, wire_id


def blocks_of(*, user_id: Any) -> list[dict[str, Any]]:
    """The users the caller blocked, latest first: `{id, username, blocked_at}`."""
    blocks = Block.objects.filter(blocker_id=user_id).order_by("-created_at", "-id")
    rows = list(blocks.values("blocked_id", "created_at"))
    names = display_names(row["blocked_id"] for row in rows)
    return [
        {
            "id": wire_id(row["blocked_id"]),
            "username": names.get(row["blocked_id"], ""),
            "blocked_at": row["created_at"],
        }
        for row in rows
    ]


def blocked_ids(*, user_id: Any) -> set[Any]:
    """The wire ids of the users the caller blocked (one query)."""
    return {wire_id(pk) for pk in Block.objects.filter(blocker_id=user_id).values_list("blocked_id", flat=True)}


def blocks_between(*, user_id: Any, other_ids: Iterable[Any]) -> set[Any]:
    """Those of `other_ids` who blocked the user or whom the user blocked (one query)."""
    others = list(other_ids)
    if not others:
        return set()
    rows = Block.objects.filter(
        Q(blocker_id=user_id, blocked_id__in=others) | Q(blocked_id=user_id, blocker_id__in=others)
    ).values_list("blocker_id", "blocked_id")
    return {blocked if blocker == user_id else blocker for blocker, blocked in rows}


def flag_blocked_senders(messages: Iterable[dict[str, Any] | None], *, blocked: set[Any]) -> None:
    """Mark, in place, the messages whose sender the caller blocked: `sender_blocked: true`.
    The key is absent otherwise, so every other reader sees the messages unchanged."""
    if not blocked:
        return
    for message in messages:
        if message is not None and message.get("sender") in blocked:
            message["sender_blocked"] = True

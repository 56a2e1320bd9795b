"""Reads an open socket needs (parley.realtime.commands), each one query whatever the
number of conversations (tests/test_perf_guards.py counts a connect's statements)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Subquery

from parley.models import Conversation, Membership, Message
from parley.users import display_name, wire_id

_member_count = (
    Membership.objects.filter(conversation_id=OuterRef("conversation_id"))
    .order_by()
    .values("conversation_id")
    .annotate(n=Count("id"))
    .values("n")
)


def memberships_with_size(*, user_id: Any) -> list[tuple[int, int]]:
    """`(conversation id, member count)` of every conversation of the user."""
    rows = Membership.objects.filter(user_id=user_id).annotate(size=Subquery(_member_count))
    return [(cid, size or 0) for cid, size in rows.values_list("conversation_id", "size")]


def member_conversation_seqs(*, user_id: Any, conversation_ids: Collection[int] | None = None) -> dict[int, int]:
    """The last seq of each conversation the user is a member of now (of `conversation_ids`
    only, when given)."""
    memberships = Membership.objects.filter(user_id=user_id)
    if conversation_ids is not None:
        memberships = memberships.filter(conversation_id__in=conversation_ids)
    return dict(memberships.values_list("conversation_id", "conversation__last_seq"))


def conversation_last_seqs(*, conversation_ids: Collection[int]) -> dict[int, int]:
    return dict(Conversation.objects.filter(pk__in=conversation_ids).values_list("id", "last_seq"))


def co_members(*, user_id: Any, conversation_ids: Collection[int], limit: int = 1000) -> list[Any]:
    """Distinct other members of the user's conversations (for the presence snapshot)."""
    return list(
        Membership.objects.filter(conversation_id__in=conversation_ids)
        .exclude(user_id=user_id)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")[:limit]
    )


def message_senders(*, message_ids: Collection[int]) -> dict[int, Any]:
    """The sender (wire id) of each message; None for an unknown message or a deleted sender."""
    senders: dict[int, Any] = dict.fromkeys(message_ids)
    rows = Message.objects.filter(pk__in=message_ids).values_list("pk", "sender_id")
    senders.update((pk, wire_id(sender)) for pk, sender in rows)
    return senders


def display_names_by_wire_id(*, user_ids: Collection[Any] = (), members_of: int | None = None) -> dict[Any, str | None]:
    """Display names (PARLEY["DISPLAY_NAME"]) keyed by wire id: of `user_ids` (None for a
    user who no longer exists) and of every member of `members_of`."""
    people = get_user_model()._default_manager
    names: dict[Any, str | None] = dict.fromkeys(user_ids)
    if members_of is not None:
        names.update(
            (wire_id(user.pk), display_name(user)) for user in people.filter(memberships__conversation_id=members_of)
        )
    missing = [u for u in user_ids if names.get(u) is None]
    if missing:
        names.update((wire_id(user.pk), display_name(user)) for user in people.filter(pk__in=missing))
    return names

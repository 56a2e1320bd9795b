"""The member's own view of a conversation (SPEC 10): notification level, mute with an
optional expiry, archive, pin to top. It is nobody else's business: no durable event,
only `conversation.updated` to the member's own user sockets, after commit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from parley import access, events, selectors
from parley.common.errors import InvalidInput
from parley.models import Membership
from parley.selectors.conversations import MAX_PINNED_CONVERSATIONS
from parley.users import User

FIELDS = ("notification_level", "muted_until", "archived", "pinned")


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("Must be true or false.", field=field, code="invalid_type")
    return value


def _muted_until(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) and len(value) <= 64 else None
    except ValueError:  # well formed, but no such time (month 13)
        parsed = None
    if parsed is None:
        raise InvalidInput("Must be an ISO 8601 time, or null to unmute.", field="muted_until", code="invalid_time")
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def member_state_update(*, user: User, conversation_id: int, changes: Mapping[str, Any]) -> None:
    """Apply any of FIELDS to the caller's membership; other keys are ignored. Every
    value is checked before anything is written."""
    membership = access.membership_access(user=user, conversation_id=conversation_id)
    update: dict[str, Any] = {}
    if "notification_level" in changes:
        level = changes["notification_level"]
        if level not in Membership.NotificationLevel.values:
            raise InvalidInput(
                "Must be one of: all, mentions, none.", field="notification_level", code="invalid_choice"
            )
        update["notification_level"] = level
    if "muted_until" in changes:
        update["muted_until"] = _muted_until(changes["muted_until"])
    if "archived" in changes:
        update["archived"] = _flag(changes["archived"], "archived")
    if "pinned" in changes:
        pinned = _flag(changes["pinned"], "pinned")
        if pinned and membership.pinned_at is None:
            update["pinned_at"] = timezone.now()
        elif not pinned:
            update["pinned_at"] = None
    if not update:
        return
    with transaction.atomic():
        if update.get("pinned_at") is not None:
            pinned_count = Membership.objects.filter(user=user, pinned_at__isnull=False).count()
            if pinned_count >= MAX_PINNED_CONVERSATIONS:
                raise InvalidInput(
                    f"At most {MAX_PINNED_CONVERSATIONS} pinned conversations.", field="pinned", code="too_many_pins"
                )
        Membership.objects.filter(pk=membership.pk).update(**update)
        user_id = user.pk
        events.publish_on_commit(lambda: _own_view(user_id=user_id, conversation_id=conversation_id))


def _own_view(*, user_id: Any, conversation_id: int) -> dict[Any, events.ServerFrame]:
    conversation = selectors.conversation_json_for_user(user_id=user_id, conversation_id=conversation_id, embed=0)
    if conversation is None:
        return {}
    return {user_id: events.conversation_updated(conversation=conversation)}

"""Reads of the notification tables: webhooks and their delivery log, the frames the
outbox's events render to, the members a push may be for, and open sockets."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.core.cache import cache

from parley import events
from parley.common.errors import NotFound
from parley.models import Event, Membership, PushSubscription, Webhook, WebhookDelivery
from parley.representations import iso
from parley.selectors.messages import message_json_by_id

DELIVERY_LOG_LIMIT = 100


def webhook_json(webhook: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": webhook.pk,
        "url": webhook.url,
        "events": list(webhook.events),
        "enabled": webhook.enabled,
        "disabled_reason": webhook.disabled_reason,
        "created_at": iso(webhook.created_at),
    }
    if with_secret:
        body["secret"] = webhook.secret
    return body


def webhook_get(*, webhook_id: int) -> Webhook:
    webhook = Webhook.objects.filter(pk=webhook_id).first()
    if webhook is None:
        raise NotFound("No such webhook.", code="unknown_webhook")
    return webhook


def webhook_list() -> list[dict[str, Any]]:
    return [webhook_json(w) for w in Webhook.objects.order_by("id")]


def delivery_json(delivery: WebhookDelivery, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "webhook_id": delivery.message_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": iso(delivery.next_attempt_at) if delivery.status == "pending" else None,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "delivered_at": iso(delivery.delivered_at) if delivery.delivered_at else None,
        "created_at": iso(delivery.created_at),
        "log": attempts,
        "payload": delivery.payload,
    }


def delivery_log(*, webhook_id: int, status: str | None = None) -> list[dict[str, Any]]:
    """The webhook's latest deliveries, newest first, each with its attempts (two queries)."""
    webhook_get(webhook_id=webhook_id)
    deliveries = WebhookDelivery.objects.filter(webhook_id=webhook_id)
    if status:
        deliveries = deliveries.filter(status=status)
    rows = list(deliveries.order_by("-id")[:DELIVERY_LOG_LIMIT])
    log: dict[int, list[dict[str, Any]]] = {d.pk: [] for d in rows}
    from parley.models import WebhookAttempt

    for attempt in WebhookAttempt.objects.filter(delivery_id__in=list(log)).order_by("id"):
        log[attempt.delivery_id].append(
            {
                "at": iso(attempt.at),
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
            }
        )
    return [delivery_json(d, log[d.pk]) for d in rows]


def event_frames(event_list: list[Event]) -> dict[int, dict[str, Any]]:
    """The socket's frame of each event, by event id: message events with the message's
    current JSON (one query); a type without a renderer here gets its stored fields."""
    message_ids = sorted({e.message_id for e in event_list if e.message_id and e.type in events.MESSAGE_EVENTS})
    messages = message_json_by_id(message_ids)
    frames: dict[int, dict[str, Any]] = {}
    for event in event_list:
        message = messages.get(event.message_id) if event.message_id else None
        try:
            frames[event.pk] = dict(events.durable_frame(event, message=message))
        except (ValueError, AssertionError, KeyError):
            frames[event.pk] = {
                "type": event.type,
                "conversation": event.conversation_id,
                "seq": event.seq,
                "message_id": event.message_id,
                **(event.data or {}),
            }
    return frames


def push_candidates(*, conversation_id: int, sender_id: Any) -> list[tuple[Any, str, Any]]:
    """`(user id, level, muted_until)` of the conversation's members other than the
    sender who have at least one push subscription."""
    subscribed = PushSubscription.objects.values("user_id")
    rows = (
        Membership.objects.filter(conversation_id=conversation_id, user_id__in=subscribed)
        .exclude(user_id=sender_id)
        .values_list("user_id", "notification_level", "muted_until")
    )
    return list(rows)


def any_push_subscription() -> bool:
    return PushSubscription.objects.exists()


def users_with_open_sockets(user_ids: Collection[Any]) -> set[Any]:
    """Users with a socket open now on any server process: the presence counts
    (parley.realtime.presence) in the shared cache. Only as good as the cache is shared:
    the embedded mode's in-memory cache is the server process's own, and a worker
    process sees nobody online there (docs/notifications.md)."""
    ids = list(user_ids)
    if not ids:
        return set()
    try:
        found = cache.get_many([presence_key(u) for u in ids])
    except Exception:  # noqa: BLE001 - no cache: treat everyone as offline, a push too many is fine
        return set()
    return {u for u in ids if (found.get(presence_key(u)) or 0) > 0}


def presence_key(user_id: Any) -> str:
    """The cache key of a user's open-socket count (parley.realtime.presence writes it)."""
    return f"presence:{user_id}"

"""Webhooks of the host's backend (the server API): create, change, delete, replay.

A URL is checked when it is stored (http(s); resolving to public addresses unless
PARLEY["NOTIFY_ALLOW_PRIVATE_ADDRESSES"]) and again on every attempt
(parley.notify.destinations), since DNS may change in between.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from parley.common.errors import AppError, InvalidInput
from parley.models import Event, Webhook, WebhookDelivery
from parley.notify.destinations import UnsafeDestination, resolve
from parley.notify.webhooks import new_secret
from parley.selectors.notifications import webhook_get

EVENT_TYPES = frozenset(Event.Type.values)
MAX_URL_LENGTH = 2000


class Conflict(AppError):
    status = 409
    code = "conflict"


def _clean_url(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("A webhook needs a URL.", field="url", code="invalid_url")
    url = value.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"At most {MAX_URL_LENGTH} characters.", field="url", code="invalid_url")
    try:
        resolve(url)
    except UnsafeDestination as refused:
        raise InvalidInput(refused.detail, field="url", code=refused.code)
    return url


def _clean_events(value: object) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidInput(
            'A non-empty list of event types, or ["*"] for all of them.', field="events", code="invalid_events"
        )
    unknown = sorted(set(value) - EVENT_TYPES - {"*"})
    if unknown:
        raise InvalidInput(
            f"Unknown event type {unknown[0]!r}; known: {', '.join(sorted(EVENT_TYPES))}.",
            field="events",
            code="invalid_events",
        )
    return sorted(set(value))


def _body(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("A JSON object is expected.", code="invalid")
    return data


def webhook_create(*, data: Any) -> Webhook:
    body = _body(data)
    url = _clean_url(body.get("url"))
    types = _clean_events(body.get("events"))
    return Webhook.objects.create(url=url, events=types, secret=new_secret())


def webhook_update(*, webhook_id: int, data: Any) -> Webhook:
    """Change `url`, `events` or `enabled` (true turns a disabled webhook back on and
    clears its reason); omitted fields keep their value."""
    body = _body(data)
    webhook = webhook_get(webhook_id=webhook_id)
    if "url" in body:
        webhook.url = _clean_url(body["url"])
    if "events" in body:
        webhook.events = _clean_events(body["events"])
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise InvalidInput("Must be true or false.", field="enabled", code="invalid")
        webhook.enabled = body["enabled"]
        if webhook.enabled:
            webhook.disabled_reason = ""
    webhook.updated_at = timezone.now()
    webhook.save()
    return webhook


def webhook_delete(*, webhook_id: int) -> None:
    webhook_get(webhook_id=webhook_id).delete()


def delivery_replay(*, webhook_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again, with its own `webhook-id` and payload, as soon as a worker
    looks (whatever its status); its retry schedule starts over."""
    webhook = webhook_get(webhook_id=webhook_id)
    if not webhook.enabled:
        raise Conflict("The webhook is disabled; enable it first.", code="webhook_disabled")
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id, webhook_id=webhook_id).first()
        if delivery is None:
            from parley.common.errors import NotFound

            raise NotFound("No such delivery of this webhook.", code="unknown_delivery")
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.locked_until = None
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "locked_until"])
    return delivery

"""Sending what the outbox fanned out: webhook deliveries and pending pushes.

Each round claims due rows under a lease (`locked_until`, `SELECT ... FOR UPDATE SKIP
LOCKED` on PostgreSQL, SQLite's single writer elsewhere), commits, sends with no
transaction open, then records each outcome only if the lease is still its own. A
worker killed between the send and the record leaves the lease to expire, and the
delivery goes out again with the same `webhook-id`: at least once, never under a new id.

Webhooks retry on PARLEY["WEBHOOK_RETRY_SCHEDULE"] (exponential, about a day); when the
schedule runs out the delivery fails and its webhook is disabled. A push goes only to
a member with no open socket at send time, to each of their subscriptions, with the
conversation as its `Topic`; an endpoint answering 404 or 410 is deleted.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from parley.conf import parley_settings
from parley.models import Conversation, Message, PendingPush, PushSubscription, Webhook, WebhookAttempt, WebhookDelivery
from parley.notify import webhooks as hooks
from parley.notify import webpush
from parley.notify.destinations import Answer
from parley.selectors import notifications as reads
from parley.users import display_names

SENDERS = 8  # concurrent requests per worker: one slow receiver does not hold up the rest


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=float(parley_settings.WORKER_LEASE_SECONDS))


def _parallel(calls: list[Callable[[], Answer]]) -> list[tuple[Answer, int]]:
    def timed(call: Callable[[], Answer]) -> tuple[Answer, int]:
        started = time.monotonic()
        answer = call()
        return answer, int((time.monotonic() - started) * 1000)

    if len(calls) == 1:
        return [timed(calls[0])]
    with ThreadPoolExecutor(max_workers=min(SENDERS, len(calls))) as pool:
        return list(pool.map(timed, calls))


# --- Webhooks --------------------------------------------------------------------------------


def webhooks_send_due(*, limit: int | None = None) -> int:
    """Attempt up to `limit` due deliveries of enabled webhooks; returns how many."""
    limit = limit or int(parley_settings.WORKER_BATCH_SIZE)
    now = timezone.now()
    lease = _lease(now)
    with transaction.atomic():
        due = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, webhook__enabled=True)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .order_by("next_attempt_at", "id")
        )
        claimed = list(due.select_related("webhook")[:limit])
        if not claimed:
            return 0
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(locked_until=lease)
    answers = _parallel([functools.partial(_attempt, d) for d in claimed])
    for delivery, (answer, duration_ms) in zip(claimed, answers, strict=True):
        _record(delivery, answer, duration_ms=duration_ms, lease=lease)
    return len(claimed)


def _attempt(delivery: WebhookDelivery) -> Answer:
    webhook = delivery.webhook
    return hooks.attempt(
        url=webhook.url, secret=webhook.secret, message_id=delivery.message_id, payload=delivery.payload
    )


def _record(delivery: WebhookDelivery, answer: Answer, *, duration_ms: int, lease: datetime) -> None:
    now = timezone.now()
    schedule = list(parley_settings.WEBHOOK_RETRY_SCHEDULE)
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {
        "attempts": attempts,
        "locked_until": None,
        "last_status_code": answer.status_code,
        "last_error": answer.error[:300],
    }
    gave_up = False
    if answer.ok:
        fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now)
    elif attempts > len(schedule):
        fields.update(status=WebhookDelivery.Status.FAILED)
        gave_up = True
    else:
        fields.update(next_attempt_at=now + timedelta(seconds=float(schedule[attempts - 1])))
    with transaction.atomic():
        # Only while the lease is ours: a worker that took over after it expired records its own.
        mine = WebhookDelivery.objects.filter(pk=delivery.pk, locked_until=lease).update(**fields)
        if not mine:
            return
        WebhookAttempt.objects.create(
            delivery_id=delivery.pk, status_code=answer.status_code, error=answer.error[:300], duration_ms=duration_ms
        )
        if gave_up:
            Webhook.objects.filter(pk=delivery.webhook_id, enabled=True).update(
                enabled=False,
                disabled_reason=f"delivery {delivery.message_id} failed {attempts} times",
                updated_at=now,
            )


# --- Web Push --------------------------------------------------------------------------------


def pushes_send_due(*, limit: int | None = None) -> int:
    """Send up to `limit` due pending pushes (one notification each, with its count)."""
    limit = limit or int(parley_settings.WORKER_BATCH_SIZE)
    now = timezone.now()
    lease = _lease(now)
    with transaction.atomic():
        claimed = list(
            PendingPush.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .order_by("due_at", "id")[:limit]
        )
        if not claimed:
            return 0
        PendingPush.objects.filter(pk__in=[p.pk for p in claimed]).update(locked_until=lease)
    online = reads.users_with_open_sockets({p.user_id for p in claimed})
    to_send = [p for p in claimed if p.user_id not in online] if webpush.configured() else []
    subscriptions: dict[Any, list[PushSubscription]] = {}
    for subscription in PushSubscription.objects.filter(user_id__in={p.user_id for p in to_send}):
        subscriptions.setdefault(subscription.user_id, []).append(subscription)
    payloads = _payloads(to_send)
    calls: list[tuple[PushSubscription, Callable[[], Answer]]] = [
        (subscription, functools.partial(_push, subscription, payloads[pending.pk], pending.conversation_id))
        for pending in to_send
        for subscription in subscriptions.get(pending.user_id, [])
    ]
    answers = _parallel([call for _, call in calls]) if calls else []
    gone = [s.pk for (s, _), (answer, _) in zip(calls, answers, strict=True) if answer.status_code in webpush.GONE]
    with transaction.atomic():
        if gone:
            PushSubscription.objects.filter(pk__in=gone).delete()
        for pending in claimed:
            # Messages counted while we sent stay for the next push; what was sent (or
            # was seen live by an online member) is taken off.
            PendingPush.objects.filter(pk=pending.pk, locked_until=lease).update(
                count=F("count") - pending.count, locked_until=None
            )
        PendingPush.objects.filter(pk__in=[p.pk for p in claimed], count__lte=0, locked_until__isnull=True).delete()
    return len(claimed)


def _push(subscription: PushSubscription, payload: dict[str, Any], conversation_id: int) -> Answer:
    return webpush.send(
        webpush.Subscription(endpoint=subscription.endpoint, p256dh=subscription.p256dh, auth=subscription.auth),
        payload,
        topic=f"conversation-{conversation_id}",
    )


def _payloads(pending: list[PendingPush]) -> dict[int, dict[str, Any]]:
    """What the service worker shows: title, body and the page a click opens."""
    if not pending:
        return {}
    titles = dict(Conversation.objects.filter(pk__in={p.conversation_id for p in pending}).values_list("id", "title"))
    messages = {
        pk: (sender, content)
        for pk, sender, content in Message.objects.filter(pk__in={p.last_message_id for p in pending}).values_list(
            "pk", "sender_id", "content"
        )
    }
    names = display_names({sender for sender, _ in messages.values() if sender is not None})
    payloads = {}
    for p in pending:
        sender, content = messages.get(p.last_message_id, (None, ""))
        who = names.get(sender, "Someone") if sender is not None else "Someone"
        title = titles.get(p.conversation_id) or who
        preview = content if len(content) <= 120 else content[:119] + "…"
        body = f"{who}: {preview}" if p.count == 1 else f"{p.count} new messages (latest from {who}: {preview})"
        payloads[p.pk] = {
            "type": "messages",
            "conversation": p.conversation_id,
            "count": p.count,
            "title": title,
            "body": body,
            "url": str(parley_settings.PUSH_OPEN_URL).format(conversation=p.conversation_id),
            "tag": f"conversation-{p.conversation_id}",
        }
    return payloads

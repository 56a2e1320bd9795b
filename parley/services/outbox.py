"""Draining the notification outbox: each event's row becomes webhook deliveries and
pending pushes, in one transaction with the row's removal.

The send path writes one `OutboxEntry` per event (parley.services.sending, and
sequencing for every other write), whatever the conversation's size; the fan-out to
recipients happens here, off the send path:

- a webhook delivery per (enabled webhook whose `events` name the type, event),
  unique on that pair, so a batch drained twice (a worker killed before its commit)
  creates nothing twice;
- for `message.created`, one `PendingPush` per (recipient, conversation) that the
  preferences let through (parley.notify.preferences), counted up by the messages
  of a burst instead of a row per message: a 1,000-member conversation costs at
  most one row per subscribed member however many messages arrive.

Rows are claimed with `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
workers drain side by side without taking the same row; SQLite's IMMEDIATE
transactions admit one writer at a time, which gives the same exclusion.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from parley.conf import parley_settings
from parley.models import Event, MessageMention, OutboxEntry, PendingPush, Webhook, WebhookDelivery
from parley.notify.preferences import push_wanted
from parley.selectors import notifications as reads
from parley.users import user_db_value

_UPSERT_PENDING = f"""
    INSERT INTO {PendingPush._meta.db_table} (user_id, conversation_id, count, last_message_id, due_at)
    VALUES (%s, %s, %s, %s, %s)
    ON CONFLICT (user_id, conversation_id) DO UPDATE
    SET count = {PendingPush._meta.db_table}.count + excluded.count,
        last_message_id = CASE WHEN excluded.last_message_id > {PendingPush._meta.db_table}.last_message_id
                          THEN excluded.last_message_id ELSE {PendingPush._meta.db_table}.last_message_id END
"""  # noqa: S608 - a model's table name; every value is a bound parameter


def outbox_drain(*, limit: int | None = None) -> int:
    """Fan out up to `limit` outbox rows (oldest first); returns how many were drained."""
    limit = limit or int(parley_settings.WORKER_BATCH_SIZE)
    with transaction.atomic():
        claimed = list(
            OutboxEntry.objects.select_for_update(skip_locked=True).order_by("id").values_list("id", "event_id")[:limit]
        )
        if not claimed:
            return 0
        event_list = list(Event.objects.filter(pk__in=[event_id for _, event_id in claimed]))
        _to_webhooks(event_list)
        _to_pushes(event_list, now=timezone.now())
        OutboxEntry.objects.filter(pk__in=[pk for pk, _ in claimed]).delete()
    return len(claimed)


def _to_webhooks(event_list: list[Event]) -> None:
    webhooks = list(Webhook.objects.filter(enabled=True).values_list("id", "events"))
    if not webhooks or not event_list:
        return
    wanted = [(event, hook_id) for event in event_list for hook_id, types in webhooks if _subscribed(types, event.type)]
    if not wanted:
        return
    frames = reads.event_frames(sorted({event for event, _ in wanted}, key=lambda e: e.pk))
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                webhook_id=hook_id,
                event_id=event.pk,
                event_type=event.type,
                message_id=f"msg_{event.pk}_{hook_id}",
                payload=frames[event.pk],
                next_attempt_at=now,
            )
            for event, hook_id in wanted
        ],
        ignore_conflicts=True,  # (webhook, event) exists: drained before, by a worker that died
    )


def _subscribed(types: Any, event_type: str) -> bool:
    return isinstance(types, list) and ("*" in types or event_type in types)


def _to_pushes(event_list: list[Event], *, now: datetime) -> None:
    created = [e for e in event_list if e.type == Event.Type.MESSAGE_CREATED and e.message_id]
    if not created or not reads.any_push_subscription():
        return
    # The mentions the send stored (`@username` and the explicit list, members only).
    mentions: defaultdict[int, set[Any]] = defaultdict(set)
    stored = MessageMention.objects.filter(message_id__in=[e.message_id for e in created])
    for message_id, user_id in stored.values_list("message_id", "user_id"):
        mentions[message_id].add(user_id)
    by_conversation: dict[int, list[Event]] = defaultdict(list)
    for event in created:
        by_conversation[event.conversation_id].append(event)
    counts: Counter[tuple[Any, int]] = Counter()
    last: dict[tuple[Any, int], int] = {}
    for conversation_id, conversation_events in by_conversation.items():
        senders = {e.actor_id for e in conversation_events}
        candidates = {
            sender: reads.push_candidates(conversation_id=conversation_id, sender_id=sender) for sender in senders
        }
        for event in conversation_events:
            mentioned = mentions.get(event.message_id or 0, set())
            for user_id, level, muted_until in candidates[event.actor_id]:
                if push_wanted(level=level, muted_until=muted_until, mentioned=user_id in mentioned, now=now):
                    key = (user_id, conversation_id)
                    counts[key] += 1
                    last[key] = max(last.get(key, 0), event.message_id or 0)
    if not counts:
        return
    due = connection.ops.adapt_datetimefield_value(
        now + timedelta(seconds=float(parley_settings.PUSH_COALESCE_SECONDS))
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            _UPSERT_PENDING,
            [(user_db_value(user_id), cid, n, last[(user_id, cid)], due) for (user_id, cid), n in counts.items()],
        )

"""SPEC 12: the outbox, webhooks with their deliveries, Web Push subscriptions and pending pushes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from parley.models.conversations import Conversation


class OutboxEntry(models.Model):
    """A durable event someone may have to be told of offline: written in the event's
    own transaction (one row per event, whatever the audience), drained by
    `manage.py parley_worker`, which fans it out to webhook deliveries and pending
    pushes and deletes the row in the same transaction."""

    event_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "parley_outbox"

    def __str__(self) -> str:
        return f"outbox event {self.event_id}"


class Webhook(models.Model):
    """An endpoint of the host's that receives the socket's event JSON, signed per
    Standard Webhooks with `secret`."""

    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    # Why the worker turned it off (every attempt of a delivery failed for a day); "" if on.
    disabled_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"webhook {self.pk} -> {self.url}"


class WebhookDelivery(models.Model):
    """One event for one webhook: created once (unique per (webhook, event)), attempted
    until a 2xx or its retries run out; `message_id` is the `webhook-id` header, the
    same on every attempt and replay, so a receiver deduplicates by it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.BigIntegerField()  # no foreign key: the log outlives pruned events
    event_type = models.CharField(max_length=32)
    message_id = models.CharField(max_length=64, unique=True)
    payload = models.JSONField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PENDING)
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker holds the delivery until then; a worker killed mid-send lets it expire.
    locked_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.IntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event_id"], name="parley_delivery_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="parley_delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.message_id} ({self.status})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per HTTP attempt."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.IntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")
    duration_ms = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"attempt of {self.delivery_id}: {self.status_code or self.error}"


class PushSubscription(models.Model):
    """A browser's Web Push subscription (one per device): the push service's endpoint
    and the keys its payloads are encrypted to."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.URLField(max_length=2000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"push subscription {self.pk} of {self.user_id}"


class PendingPush(models.Model):
    """New messages a member has not been pushed yet, one row per (member, conversation):
    a burst adds to `count` instead of adding rows, and the worker sends one
    notification per row once `due_at` has passed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    count = models.IntegerField(default=0)
    last_message_id = models.BigIntegerField()
    due_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "conversation"], name="parley_pending_push_unique"),
        ]
        indexes = [models.Index(fields=["due_at"], name="parley_pending_push_due_idx")]

    def __str__(self) -> str:
        return f"{self.count} for {self.user_id} in {self.conversation_id}"

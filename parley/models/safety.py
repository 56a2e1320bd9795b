"""SPEC 11: blocks between users and reports of messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from parley.models.conversations import Message


class Block(models.Model):
    """`blocker` blocked `blocked`: between the two, no direct conversation starts or
    carries a message and neither adds the other to a group (parley.services.blocks)."""

    blocker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="parley_block_unique"),
            models.CheckConstraint(condition=~Q(blocker=models.F("blocked")), name="parley_block_not_self"),
        ]
        # The send path's gate looks a pair up from either side.
        indexes = [models.Index(fields=["blocked", "blocker"], name="parley_block_blocked_idx")]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class Report(models.Model):
    """A participant's report of a message, for the moderators' queue in the admin."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACTIONED = "actioned", "Actioned"
        DISMISSED = "dismissed", "Dismissed"

    # NULL once the message is gone for good (its conversation deleted).
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    conversation_id_reported = models.BigIntegerField("conversation")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The message's sender when reported (NULL once that user is deleted).
    reported_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        permissions = [("moderate", "Can moderate reported messages")]
        constraints = [
            models.UniqueConstraint(fields=["message", "reporter"], name="parley_report_once"),
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="parley_report_queue_idx")]

    def __str__(self) -> str:
        return f"report {self.pk} of message {self.message_id}"

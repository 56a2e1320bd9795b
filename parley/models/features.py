"""SPEC 10: reactions, mentions and the edit history of messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.models.conversations import Conversation, Message


class Reaction(models.Model):
    """One user's reaction with one emoji (normalised, parley.services.emoji) to a message."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Leads with the message: also the index a page's reaction summary reads.
            models.UniqueConstraint(fields=["message", "emoji", "user"], name="parley_reaction_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on {self.message_id}"


class MessageMention(models.Model):
    """A member mentioned by a message: the source of the mentions list and of
    `Membership.unread_mentions`."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+", db_index=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="parley_mention_unique")]
        indexes = [
            # The caller's mentions, newest first; and the unread ones of one conversation.
            models.Index(fields=["user", "message"], name="parley_mention_user_idx"),
            models.Index(fields=["conversation", "user", "message"], name="parley_mention_conv_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.message_id}"


class MessageEdit(models.Model):
    """A previous version of an edited message, kept in the edit's transaction."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    content = models.TextField(blank=True, default="")
    # When this version was written: NULL for the original, else the edit that made it.
    edited_at = models.DateTimeField(null=True, blank=True)
    replaced_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"version of {self.message_id}"

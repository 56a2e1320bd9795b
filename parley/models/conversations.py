"""Conversations, memberships (with the read pointer and the member's own view), messages,
durable events, and the host's identities of users."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from parley.storage import attachment_storage


class Conversation(models.Model):
    class Kind(models.TextChoices):
        DIRECT = "direct", "Direct"
        GROUP = "group", "Group"

    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.DIRECT)
    title = models.CharField(max_length=200, blank=True, default="")
    # "<lower user id>:<higher user id>" for direct conversations: one per pair (ids as
    # text, so that UUID keys fit too).
    direct_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="conversations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Time of the latest activity (creation or message); the list is ordered by it.
    updated_at = models.DateTimeField(default=timezone.now)
    last_seq = models.BigIntegerField(default=0)
    last_message = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["-updated_at", "-id"], name="parley_conv_activity_idx")]

    def __str__(self) -> str:
        return self.title or f"{self.kind} conversation {self.pk}"


class Membership(models.Model):
    """A user's place in a conversation: role, read pointer and unread counter."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=6, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    # Read pointer: this message and every earlier one are read by the user.
    last_read_message_id = models.BigIntegerField(default=0)
    last_read_at = models.DateTimeField(null=True, blank=True)
    # Live messages from others after the read pointer, kept in the write transactions.
    unread_count = models.IntegerField(default=0)
    # A direct conversation "deleted" by this user: hidden from their list until new activity.
    hidden = models.BooleanField(default=False)

    # The member's own view of the conversation (SPEC 10), returned on the conversation JSON.
    class NotificationLevel(models.TextChoices):
        ALL = "all", "All messages"
        MENTIONS = "mentions", "Mentions only"
        NONE = "none", "Nothing"

    notification_level = models.CharField(
        max_length=8, choices=NotificationLevel.choices, default=NotificationLevel.ALL
    )
    # Muted until this time; NULL is not muted (a far-future time is "until unmuted").
    muted_until = models.DateTimeField(null=True, blank=True)
    archived = models.BooleanField(default=False)
    # Pinned to the top of the member's list; the time orders the pinned ones.
    pinned_at = models.DateTimeField(null=True, blank=True)
    # Live messages from others after the read pointer that mention the member.
    unread_mentions = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="parley_membership_unique"),
        ]
        indexes = [models.Index(fields=["user", "hidden"], name="parley_membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.conversation_id}"


def attachment_upload_to(instance: Message, filename: str) -> str:
    """Random, extension-less storage names: nothing about the file is guessable or executable."""
    name = uuid.uuid4().hex
    return f"{name[:2]}/{name[2:4]}/{name}"


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # NULL once the host deletes the user: the message stays, from a "deleted user".
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content = models.TextField(blank=True, default="")
    attachment = models.FileField(
        upload_to=attachment_upload_to, storage=attachment_storage, blank=True, max_length=100
    )
    attachment_name = models.CharField(max_length=255, blank=True, default="")
    attachment_size = models.BigIntegerField(null=True, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True, default="")
    timestamp = models.DateTimeField(default=timezone.now)
    seq = models.BigIntegerField(help_text="seq of the message.created event")
    # NULL, not "", when absent: the unique constraint below applies only to real keys.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    is_read = models.BooleanField(default=False)
    read_at = models.DateTimeField(null=True, blank=True)
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # SPEC 10: the parent of a reply (same conversation), the members mentioned (their wire
    # ids, fixed at send), and when the message was pinned (NULL: not pinned).
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # JSON text, not JSONField: a page decodes only the non-empty ones (its converter
    # was a tenth of a history page's CPU).
    mentions = models.TextField(default="[]", blank=True)
    pinned_at = models.DateTimeField(null=True, blank=True)
    # [[emoji, count], ...] in order of first use, as JSON text: the Reaction rows summed
    # up in the same transaction (under the conversation lock), so a page reads no reactions.
    reaction_summary = models.TextField(default="[]", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_id"],
                condition=Q(client_id__isnull=False),
                name="parley_message_client_id_unique",
            ),
        ]
        indexes = [
            # Keyset history over live messages: the same cost at any depth.
            models.Index(fields=["conversation", "id"], condition=Q(is_deleted=False), name="parley_msg_live_idx"),
            # Messages still waiting for a reader; scanned when a read pointer moves.
            models.Index(fields=["conversation", "id"], condition=Q(is_read=False), name="parley_msg_unread_idx"),
            # A thread (the replies to one message) and a conversation's pins, both small.
            models.Index(fields=["reply_to", "id"], condition=Q(reply_to__isnull=False), name="parley_msg_reply_idx"),
            models.Index(
                fields=["conversation", "pinned_at"], condition=Q(pinned_at__isnull=False), name="parley_msg_pinned_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in {self.conversation_id}"


class Event(models.Model):
    """A durable, numbered change of a conversation (the WebSocket catch-up source).

    Message events keep only the message id: the frame is rendered from the message's
    current state when served, so a deleted message's content is never replayed.
    """

    class Type(models.TextChoices):
        MESSAGE_CREATED = "message.created"
        MESSAGE_UPDATED = "message.updated"
        MESSAGE_DELETED = "message.deleted"
        MESSAGE_READ = "message.read"
        MEMBERS_ADDED = "members.added"
        MEMBER_REMOVED = "member.removed"
        CONVERSATION_RENAMED = "conversation.renamed"
        REACTION_ADDED = "reaction.added"
        REACTION_REMOVED = "reaction.removed"
        MESSAGE_PINNED = "message.pinned"
        MESSAGE_UNPINNED = "message.unpinned"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=32, choices=Type.choices)
    message_id = models.BigIntegerField(null=True, blank=True)
    # No index: it is only read with its event, and every write would pay for one.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="parley_event_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.seq} in {self.conversation_id}"


class ExternalIdentity(models.Model):
    """A user as the host knows them: the host's own id for the user (a trusted token's
    `sub`, the `{external_id}` of the server API) and the display name it gave.

    Created on first sight of a trusted token or by the server API; deleting the user
    deletes it. Parley never adds a field to the host's user model: this row is beside it.
    """

    external_id = models.CharField(max_length=255, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="parley_identity")
    display_name = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "external identities"

    def __str__(self) -> str:
        return f"{self.external_id} -> user {self.user_id}"

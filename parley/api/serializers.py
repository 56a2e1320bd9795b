"""Request and response shapes of the chat API.

Input serializers validate what clients send; output serializers document the JSON
in the OpenAPI schema. Responses are built by chat.representations (a lean path),
and tests/test_representations.py keeps the two identical.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from parley.common.errors import InvalidInput
from parley.message_parts import json_list, quote_of, reactions_json
from parley.models import Message
from parley.representations import attachment_url
from parley.users import display_name


class ReactionOut(serializers.Serializer):
    emoji = serializers.CharField()
    count = serializers.IntegerField()
    me = serializers.BooleanField(help_text="You reacted with it (always false in socket frames).")


class ReplyQuoteOut(serializers.Serializer):
    id = serializers.IntegerField()
    sender_name = serializers.CharField()
    content = serializers.CharField(allow_blank=True, help_text="The parent's first 200 characters, as it is now.")
    deleted = serializers.BooleanField(help_text="The parent was deleted: `content` is empty.")


class MessageOut(serializers.ModelSerializer):
    sender_name = serializers.SerializerMethodField(
        help_text='PARLEY["DISPLAY_NAME"] of the sender; "deleted user" once the user is deleted.'
    )
    attachment = serializers.SerializerMethodField(help_text="Download URL, for participants only.")
    attachment_name = serializers.SerializerMethodField()
    attachment_size = serializers.SerializerMethodField()
    attachment_type = serializers.SerializerMethodField()
    reactions = serializers.SerializerMethodField(help_text="In order of first use; [] if none.")
    reply_to = serializers.SerializerMethodField(help_text="The quote of the parent of a reply; null otherwise.")
    mentions = serializers.SerializerMethodField(help_text="Ids of the mentioned members.")
    pinned = serializers.SerializerMethodField()
    # Only on REST reads, only for the caller who blocked the sender, only when true.
    sender_blocked = serializers.BooleanField(
        required=False, help_text="Present (true) when the caller blocked the sender; absent otherwise."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "sender",
            "sender_name",
            "content",
            "attachment",
            "attachment_name",
            "attachment_size",
            "attachment_type",
            "timestamp",
            "is_read",
            "read_at",
            "is_deleted",
            "edited_at",
            "client_id",
            "seq",
            "reactions",
            "reply_to",
            "mentions",
            "pinned",
            "sender_blocked",
        ]

    @extend_schema_field(ReactionOut(many=True))
    def get_reactions(self, message: Message) -> list[dict[str, Any]]:
        return reactions_json(message.reaction_summary)

    @extend_schema_field(ReplyQuoteOut(allow_null=True))
    def get_reply_to(self, message: Message) -> dict[str, Any] | None:
        return quote_of(message.reply_to) if message.reply_to is not None else None

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_mentions(self, message: Message) -> list[Any]:
        return json_list(message.mentions)

    def get_pinned(self, message: Message) -> bool:
        return message.pinned_at is not None

    def get_sender_name(self, message: Message) -> str:
        return display_name(message.sender)

    def _has_file(self, message: Message) -> bool:
        return bool(message.attachment) and not message.is_deleted

    def get_attachment(self, message: Message) -> str | None:
        return attachment_url(message.pk) if self._has_file(message) else None

    def get_attachment_name(self, message: Message) -> str | None:
        return message.attachment_name if self._has_file(message) else None

    def get_attachment_size(self, message: Message) -> int | None:
        return message.attachment_size if self._has_file(message) else None

    def get_attachment_type(self, message: Message) -> str | None:
        return message.attachment_type if self._has_file(message) else None


class MemberOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=["admin", "member"])
    last_read_message_id = serializers.IntegerField()


class ConversationOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["direct", "group"])
    title = serializers.CharField(allow_blank=True)
    participants = serializers.ListField(child=serializers.IntegerField())
    members = MemberOut(many=True)
    messages = MessageOut(many=True, help_text="The latest live messages, oldest first.")
    last_message = MessageOut(allow_null=True)
    unread_count = serializers.IntegerField()
    last_read_message_id = serializers.IntegerField()
    last_seq = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    notification_level = serializers.ChoiceField(choices=["all", "mentions", "none"])
    muted_until = serializers.DateTimeField(allow_null=True)
    muted = serializers.BooleanField(help_text="muted_until is in the future.")
    archived = serializers.BooleanField()
    pinned = serializers.BooleanField(help_text="Pinned to the top of your list.")
    unread_mentions = serializers.IntegerField()


class MessagePageOut(serializers.Serializer):
    is_envelope = True  # one object, also as the response of a `list` action (common.openapi)

    count = serializers.IntegerField(allow_null=True, help_text="Total in page mode; null in keyset mode.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MessageOut(many=True)


class EventsOut(serializers.Serializer):
    events = serializers.ListField(child=serializers.DictField(), help_text="Frames as on the WebSocket.")
    last_seq = serializers.IntegerField()
    has_more = serializers.BooleanField()


class StartIn(serializers.Serializer):
    user2 = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The other user's id.")


class GroupCreateIn(serializers.Serializer):
    participants = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1))
    title = serializers.CharField(max_length=200, allow_blank=True, allow_null=True, required=False, default="")


class ConversationUpdateIn(serializers.Serializer):
    title = serializers.CharField(
        max_length=200, allow_blank=True, allow_null=True, required=False, help_text="null leaves it unchanged."
    )


class SendMessageIn(serializers.Serializer):
    content = serializers.CharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False)
    attachment = serializers.FileField(required=False)
    client_id = serializers.CharField(
        required=False, allow_null=True, max_length=64, help_text="Idempotency key chosen by the client."
    )
    reply_to = serializers.IntegerField(
        required=False, allow_null=True, help_text="A message of this conversation (400 reply_to_invalid otherwise)."
    )
    mentions = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Member ids (400 mention_not_member otherwise); each @username of the content is added.",
    )


class EditMessageIn(serializers.Serializer):
    content = serializers.CharField(allow_blank=True, trim_whitespace=False)


class AddParticipantsIn(serializers.Serializer):
    participants = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1))


class RemoveParticipantIn(serializers.Serializer):
    user = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


def body_value(data: Any, name: str) -> Any:
    """A field from a JSON object or a form; None when absent. A body that is not an
    object (a JSON list, string, number or null) is refused, not read as empty."""
    if hasattr(data, "getlist"):
        values = data.getlist(name)
        if len(values) > 1:
            return values
        return values[0] if values else None
    if isinstance(data, dict):
        return data.get(name)
    raise InvalidInput("The request body must be a JSON object or a form.", code="invalid_body")


class ReactionIn(serializers.Serializer):
    emoji = serializers.CharField(help_text="One Unicode emoji, or a short name such as :thumbsup:.")


class MessageListOut(serializers.Serializer):
    is_envelope = True

    results = MessageOut(many=True)


class VersionOut(serializers.Serializer):
    content = serializers.CharField(allow_blank=True)
    edited_at = serializers.DateTimeField(
        allow_null=True, help_text="When this version was written; null: the original."
    )


class HistoryOut(serializers.Serializer):
    is_envelope = True

    results = VersionOut(many=True, help_text="The versions edits replaced, oldest first.")


class MemberStateIn(serializers.Serializer):
    notification_level = serializers.ChoiceField(choices=["all", "mentions", "none"], required=False)
    muted_until = serializers.DateTimeField(required=False, allow_null=True, help_text="null: not muted.")
    archived = serializers.BooleanField(required=False)
    pinned = serializers.BooleanField(required=False, help_text="Pinned to the top of your list.")

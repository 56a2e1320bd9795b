"""Sending, editing and deleting messages."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from parley import access, events, metrics
from parley.attachments import StoredAttachment, attachment_discard, attachment_store
from parley.common.errors import NotFound
from parley.common.ratelimit import rate_limit_hit
from parley.models import Event, Membership, Message, MessageEdit, MessageMention
from parley.representations import message_json
from parley.services import message_parts, sending
from parley.services.sequencing import ConversationWrite, conversation_write
from parley.services.validation import clean_client_id, clean_content
from parley.users import User


def message_send(
    *,
    sender: User,
    conversation_id: int,
    content: object = "",
    attachment: UploadedFile | None = None,
    client_id: object = None,
    reply_to: object = None,
    mentions: object = None,
) -> tuple[Message, bool]:
    """Store a message and return `(message, created)`.

    `reply_to` (a message of the same conversation) and `mentions` (member ids; each
    `@username` of the content adds that member) are checked under the conversation's
    lock and stored in the send's transaction (parley.services.message_parts).

    A retry with the same `(sender, conversation, client_id)` returns the message of
    the first attempt with `created=False`, also when the attempts race: the check runs
    under the conversation lock, and a unique constraint backs it. The message is
    published only after commit, so an acknowledged message is always in the history.
    """
    text = clean_content(content, allow_empty=attachment is not None)
    key = clean_client_id(client_id)
    parent_id = message_parts.clean_reply_to(reply_to)
    explicit = message_parts.clean_mentions(mentions)
    rate_limit_hit(scope="send", key=sender.pk)
    stored = attachment_store(attachment) if attachment is not None else None
    try:
        message, created = _message_insert(
            sender=sender,
            conversation_id=conversation_id,
            content=text,
            stored=stored,
            client_id=key,
            reply_to=parent_id,
            mentions=explicit,
        )
    except BaseException:
        if stored is not None:
            attachment_discard(stored.path)
        raise
    if stored is not None and not created:
        attachment_discard(stored.path)  # the retry's copy of a file already stored
    metrics.messages_sent.labels(result="created" if created else "duplicate").inc()
    return message, created


def _message_insert(
    *,
    sender: User,
    conversation_id: int,
    content: str,
    stored: StoredAttachment | None,
    client_id: str | None,
    reply_to: int | None,
    mentions: list[Any],
) -> tuple[Message, bool]:
    now = timezone.now()
    parts = message_parts.wants_parts(reply_to=reply_to, mentions=mentions, content=content)
    parent: Message | None = None
    mentioned: list[Any] = []
    try:
        # A plain send is one round trip (parley.services.sending); a reply or a mention
        # checks and writes more in the same transaction, after the lock.
        with transaction.atomic() if parts else contextlib.nullcontext():
            inserted = sending.message_rows_insert(
                conversation_id=conversation_id,
                sender_id=sender.pk,
                content=content,
                now=now,
                client_id=client_id,
                stored=stored,
                reply_to=reply_to,
            )
            if parts:
                if reply_to is not None:
                    parent = message_parts.reply_parent(conversation_id=conversation_id, reply_to=reply_to)
                targets = message_parts.mentions_resolve(
                    conversation_id=conversation_id, sender_id=sender.pk, content=content, explicit=mentions
                )
                mentioned = message_parts.mentions_store(
                    message_id=inserted.id, conversation_id=conversation_id, user_ids=targets
                )
    except sending.Refused as refused:
        if refused.is_duplicate:
            earlier = _message_by_client_id(sender=sender, conversation_id=conversation_id, client_id=client_id)
            if earlier is not None:
                return earlier, False
        raise access.membership_refusal(conversation_exists=refused.conversation_exists) from None
    message = Message(
        id=inserted.id,
        conversation_id=conversation_id,
        sender=sender,
        content=content,
        timestamp=now,
        seq=inserted.seq,
        client_id=client_id,
        reply_to=parent,
        mentions=json.dumps(mentioned),
    )
    if stored is not None:
        message.attachment.name = stored.path
        message.attachment_name = stored.name
        message.attachment_size = stored.size
        message.attachment_type = stored.content_type
    event = Event(
        conversation_id=conversation_id,
        seq=inserted.seq,
        type=Event.Type.MESSAGE_CREATED,
        message_id=message.pk,
        actor_id=sender.pk,
    )
    # Committed already, unless the caller holds a transaction: then after its commit.
    frame = events.durable_frame(event, message=message_json(message))
    events.publish_on_commit(frame, conversation=conversation_id)
    return message, True


def _message_by_client_id(*, sender: User, conversation_id: int, client_id: str | None) -> Message | None:
    if client_id is None:
        return None
    return (
        Message.objects.select_related("sender")
        .filter(conversation_id=conversation_id, sender=sender, client_id=client_id)
        .first()
    )


def _message_relock(write: ConversationWrite, *, message_id: int) -> Message:
    """The message again, now that its conversation is locked (it may have changed)."""
    message = Message.objects.select_related("sender").filter(pk=message_id, is_deleted=False).first()
    if message is None or message.conversation_id != write.conversation.pk:
        raise NotFound("Message not found.")
    return message


def message_edit(*, user: User, message_id: int, content: object) -> Message:
    """Replace the content of the caller's own message; publishes `message.updated`."""
    checked = access.message_get_for_sender(user=user, message_id=message_id)
    with conversation_write(checked.conversation_id, member=user) as write:
        message = _message_relock(write, message_id=message_id)
        text = clean_content(content, allow_empty=bool(message.attachment))
        if text == message.content:
            return message
        # The version replaced, in the edit's transaction (GET .../history/).
        MessageEdit.objects.create(message=message, content=message.content, edited_at=message.edited_at)
        message.content = text
        message.edited_at = timezone.now()
        message.save(update_fields=["content", "edited_at"])
        write.append(Event.Type.MESSAGE_UPDATED, message=message, actor_id=user.pk)
    return message


def message_delete(*, user: User, message_id: int) -> Message:
    """Soft-delete the caller's own message: its content and file are erased for
    everyone, it leaves every listing, and `message.deleted` is published."""
    checked = access.message_get_for_sender(user=user, message_id=message_id)
    with conversation_write(checked.conversation_id, member=user) as write:
        message = _message_relock(write, message_id=message_id)
        message_erase_locked(write, message, actor_id=user.pk)
    return message


def message_erase_locked(write: ConversationWrite, message: Message, *, actor_id: object) -> None:
    """Erase one live message of the locked conversation: content and file gone for
    everyone, unread counts and the last message kept right, `message.deleted` numbered."""
    file_path = message.attachment.name
    message.is_deleted = True
    message.deleted_at = timezone.now()
    message.content = ""
    message.attachment.name = ""
    message.attachment_name = ""
    message.attachment_size = None
    message.attachment_type = ""
    message.save(
        update_fields=[
            "is_deleted",
            "deleted_at",
            "content",
            "attachment",
            "attachment_name",
            "attachment_size",
            "attachment_type",
        ]
    )
    # Members who had not read it lose one unread message.
    unread_by = Membership.objects.filter(conversation_id=message.conversation_id, last_read_message_id__lt=message.pk)
    if message.sender_id is not None:  # the sender never counted it as unread
        unread_by = unread_by.exclude(user_id=message.sender_id)
    unread_by.update(unread_count=Greatest(F("unread_count") - 1, Value(0)))
    # Its earlier versions go with it: erased means erased for everyone.
    MessageEdit.objects.filter(message_id=message.pk).delete()
    # Members it mentioned who had not read it lose one unread mention.
    mentioned = MessageMention.objects.filter(message_id=message.pk).values("user_id")
    unread_by.filter(user_id__in=mentioned).update(unread_mentions=Greatest(F("unread_mentions") - 1, Value(0)))
    if write.conversation.last_message_id == message.pk:
        previous = (
            Message.objects.filter(conversation_id=message.conversation_id, is_deleted=False)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        write.touch(last_message_id=previous)
    write.append(Event.Type.MESSAGE_DELETED, message_id=message.pk, actor_id=actor_id)  # type: ignore[arg-type]
    if file_path:
        write.after_commit(lambda: attachment_discard(file_path))

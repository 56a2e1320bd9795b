"""Read pointers: `mark_read` on message N means N and everything before it is read."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from parley import access, events, selectors
from parley.common.errors import NotFound, NotParticipant
from parley.models import Event, Membership, Message, MessageMention
from parley.representations import iso
from parley.services.sequencing import conversation_write
from parley.users import User


def messages_mark_read_by_all(*, conversation_id: int, after_id: int = 0, up_to_id: int | None = None) -> int:
    """Set `is_read`/`read_at` on messages every other member has now read.

    A message is read once every member except its sender has a read pointer at or
    past it; only messages still unread in `(after_id, up_to_id]` are examined, using
    the partial index on unread messages.
    """
    laggards = Membership.objects.filter(
        conversation_id=conversation_id, last_read_message_id__lt=OuterRef("id")
    ).exclude(user_id=OuterRef("sender_id"))
    candidates = Message.objects.filter(conversation_id=conversation_id, is_read=False, id__gt=after_id)
    if up_to_id is not None:
        candidates = candidates.filter(id__lte=up_to_id)
    return candidates.exclude(Exists(laggards)).update(is_read=True, read_at=timezone.now())


def read_pointer_move(*, user: User, message_id: int) -> tuple[Message, bool]:
    """Move the caller's read pointer forward to `message_id` (never backwards).

    Returns `(message, moved)`. A move appends a durable `message.read` event and
    recomputes the caller's unread count and unread mentions; the caller's other sockets also get a
    `conversation.updated` with the new count.
    """
    checked = access.message_get_for_member(user=user, message_id=message_id)
    try:
        moved = _pointer_move_locked(user=user, conversation_id=checked.conversation_id, message_id=message_id)
    except NotParticipant:  # removed since the check: the message is no longer theirs (404)
        raise NotFound("Message not found.") from None
    if moved:
        checked.refresh_from_db(fields=["is_read", "read_at"])
    return checked, moved


def _pointer_move_locked(*, user: User, conversation_id: int, message_id: int) -> bool:
    with conversation_write(conversation_id, member=user) as write:
        membership = write.membership
        assert membership is not None
        if membership.last_read_message_id >= message_id:
            return False
        previous = membership.last_read_message_id
        now = timezone.now()
        membership.last_read_message_id = message_id
        membership.last_read_at = now
        membership.unread_count = (
            Message.objects.filter(conversation_id=conversation_id, is_deleted=False, id__gt=message_id)
            .exclude(sender=user)
            .count()
        )
        # Mentions reset as the pointer passes them, in the same write as the unread count.
        membership.unread_mentions = (
            MessageMention.objects.filter(conversation_id=conversation_id, user=user, message_id__gt=message_id)
            .filter(Exists(Message.objects.filter(pk=OuterRef("message_id"), is_deleted=False)))
            .count()
        )
        membership.save(update_fields=["last_read_message_id", "last_read_at", "unread_count", "unread_mentions"])
        messages_mark_read_by_all(conversation_id=conversation_id, after_id=previous, up_to_id=message_id)
        write.append(Event.Type.MESSAGE_READ, message_id=message_id, actor_id=user.pk, data={"read_at": iso(now)})
        user_id = user.pk
        write.publish_after(lambda: _own_conversation_updated(user_id=user_id, conversation_id=conversation_id))
    return True


def _own_conversation_updated(*, user_id: Any, conversation_id: int) -> dict[Any, events.ServerFrame]:
    """Rendered after commit: the reader's other sockets see their new unread count."""
    conversation = selectors.conversation_json_for_user(user_id=user_id, conversation_id=conversation_id, embed=0)
    if conversation is None:
        return {}
    return {user_id: events.conversation_updated(conversation=conversation)}

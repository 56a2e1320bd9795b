"""Pinned messages: admins pin in a group, either side in a direct chat.

Pinning a pinned message (or unpinning one that is not) changes nothing and numbers
no event; otherwise `message.pinned` (with the message) or `message.unpinned`.
"""

from __future__ import annotations

from django.utils import timezone

from parley import access
from parley.common.errors import NotFound
from parley.models import Event, Message
from parley.services.sequencing import conversation_write
from parley.users import User


def message_pin_set(*, user: User, message_id: int, pinned: bool) -> Message:
    checked = access.message_get_for_member(user=user, message_id=message_id, deleted_is_error=True)
    with conversation_write(checked.conversation_id, member=user) as write:
        assert write.membership is not None
        access.message_pin_allowed(write.membership)
        message = Message.objects.select_related("sender").filter(pk=message_id).first()
        if message is None or message.conversation_id != write.conversation.pk:
            raise NotFound("Message not found.")
        if message.is_deleted:
            raise access.message_deleted()
        if (message.pinned_at is not None) == pinned:
            return message
        message.pinned_at = timezone.now() if pinned else None
        message.save(update_fields=["pinned_at"])
        if pinned:
            write.append(Event.Type.MESSAGE_PINNED, message=message, actor_id=user.pk)
        else:
            write.append(Event.Type.MESSAGE_UNPINNED, message_id=message.pk, actor_id=user.pk)
    return message

"""What happens in chat when the host's user changes: deactivated, deleted, erased.

Parley never blocks the host: deleting a user keeps their messages (the sender becomes
NULL, shown as "deleted user"); `user_messages_erase` removes their content first, when
the user asks to be forgotten. Deactivating or deleting a user closes their sockets.
"""

from __future__ import annotations

from typing import Any

from parley import events
from parley.models import Message
from parley.services.messages import message_erase_locked
from parley.services.sequencing import conversation_write


def user_messages_erase(*, user_id: Any) -> int:
    """Erase every live message of the user, in every conversation (also those they
    left): content and attachment files are gone, each is a numbered `message.deleted`.
    One transaction per conversation, under its lock; returns how many were erased."""
    erased = 0
    conversation_ids = (
        Message.objects.filter(sender_id=user_id, is_deleted=False)
        .order_by()
        .values_list("conversation_id", flat=True)
        .distinct()
    )
    for conversation_id in list(conversation_ids):
        with conversation_write(conversation_id) as write:
            live = Message.objects.filter(conversation_id=conversation_id, sender_id=user_id, is_deleted=False)
            for message in live.order_by("id").select_for_update():
                message_erase_locked(write, message, actor_id=user_id)
                erased += 1
    return erased


def user_sockets_close(*, user_id: Any, reason: str, session_id: str | None = None) -> None:
    """Close every socket of the user (or only those of one login session) once the
    current transaction commits: the host calls it on logout or a password change."""
    events.publish_on_commit(events.sockets_revoked(reason=reason, session_id=session_id), users=[user_id])

"""What happens in chat when the host's user changes: deactivated, deleted, erased.

Parley never blocks the host: deleting a user keeps their messages (the sender becomes
NULL, shown as "deleted user"); `user_messages_erase` removes their content first, when
the user asks to be forgotten. Deactivating or deleting a user closes their sockets.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import Count

from parley import access, events
from parley.attachments import attachment_discard
from parley.models import Conversation, Membership, Message
from parley.services.members import member_remove_locked
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


def user_conversations_leave(*, user_id: Any) -> None:
    """Before a user is deleted (parley.signals, whoever deletes: the admin, the host's
    code): they leave every group through the service (`member.removed`, a successor
    admin, an emptied group deleted) and a direct conversation nobody else is left in
    is deleted with its files, so no conversation is left without members."""
    groups = Membership.objects.filter(user_id=user_id, conversation__kind=Conversation.Kind.GROUP)
    for conversation_id in list(groups.values_list("conversation_id", flat=True)):
        with conversation_write(conversation_id) as write:
            if access.member_rows(conversation_id=conversation_id, user_id=user_id).exists():
                member_remove_locked(write, target_id=user_id, actor_id=user_id, reason="left")
    directs = Membership.objects.filter(user_id=user_id, conversation__kind=Conversation.Kind.DIRECT)
    alone = (
        Conversation.objects.filter(pk__in=directs.values("conversation_id"))
        .annotate(members=Count("memberships"))
        .filter(members=1)
        .values_list("pk", flat=True)
    )
    for conversation_id in list(alone):
        with conversation_write(conversation_id) as write:
            files = list(
                Message.objects.filter(conversation_id=conversation_id)
                .exclude(attachment="")
                .values_list("attachment", flat=True)
            )
            write.conversation.delete()
            for name in files:
                write.after_commit(functools.partial(attachment_discard, name))


def user_account_close(*, user: Any, erase: bool) -> int:
    """The user's own "delete my account" (SPEC 11): deactivated, so no token or
    socket of theirs works again (their sockets close, parley.signals), and with
    `erase` every message of theirs blanked and its file removed (`message.deleted`
    each). Returns how many messages were erased. The row stays: the host deletes it
    when it wants to (the admin, its own code), and Parley keeps history whole then too."""
    erased = user_messages_erase(user_id=user.pk) if erase else 0
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return erased

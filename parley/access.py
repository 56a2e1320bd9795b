"""The only place that decides who may reach a conversation or a message.

Rules:
- a conversation is visible to its members; anyone else gets 403, and 404 only when
  the conversation does not exist (the seed's contract);
- a message is visible to the members of its conversation while it is not deleted;
  for anyone else it does not exist (404), so ids cannot be probed;
- only a message's sender may edit or delete it (403 for the other members).

The membership rule is written once, in the two languages the code speaks, and
tests/test_membership_rule.py feeds both the same cases:

    member_rows         the ORM form: the membership row of a user in a conversation
                        (either side may be an OuterRef, for an Exists over many rows)
    MEMBER_SQL          the SQL form, for the send path's fixed statement
                        (parley.services.sending)
    membership_refusal  what a non-member is told: 404 without the conversation, else 403

Every path asks through these functions:

    membership_access(user=, conversation_id=, lock=False)
        the caller's Membership (conversation loaded), or the refusal; `lock=True`, inside
        a transaction, first takes the conversation's row lock (parley.services.sequencing)
    conversation_get_for_member, user_is_member
    message_get_for_member, message_get_for_sender
    message_pin_allowed     pins: admins in a group, either side in a direct chat
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from parley.common.errors import AppError, Forbidden, InvalidInput, NotFound, NotParticipant
from parley.models import Conversation, Membership, Message
from parley.users import User


def member_rows(*, conversation_id: Any, user_id: Any) -> QuerySet[Membership]:
    """The rule, ORM form: a user is a member while this row exists."""
    return Membership.objects.filter(conversation_id=conversation_id, user_id=user_id)


# The rule, SQL form, over the same table and columns: named parameters `conversation`, `user`.
MEMBER_SQL = (
    f"EXISTS (SELECT 1 FROM {Membership._meta.db_table} "  # noqa: S608 - a model's own table name
    "WHERE conversation_id = %(conversation)s AND user_id = %(user)s)"
)


def membership_refusal(*, conversation_exists: bool) -> AppError:
    """The answer to a caller who is not a member."""
    return NotParticipant() if conversation_exists else NotFound("Conversation not found.")


def conversation_lock(conversation_id: int) -> Conversation:
    """The conversation, row-locked until the transaction ends (SELECT ... FOR UPDATE;
    SQLite's IMMEDIATE transactions already admit one writer at a time)."""
    conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    if conversation is None:
        raise membership_refusal(conversation_exists=False)
    return conversation


def membership_access(*, user: User, conversation_id: int, lock: bool = False) -> Membership:
    """The caller's membership with its conversation loaded, or the refusal (403/404).

    Unlocked, one query. With `lock=True` (inside a transaction) the conversation row is
    locked first and membership checked in a second statement. It must be a second
    statement: in READ COMMITTED a statement sees the data as of its start, so a check
    folded into the locking SELECT would see a removal that committed while it waited
    for the lock as not yet done, and a member removed a moment ago could still write.
    """
    if lock:
        conversation = conversation_lock(conversation_id)
        membership = member_rows(conversation_id=conversation_id, user_id=user.pk).first()
        if membership is None:
            raise membership_refusal(conversation_exists=True)
        membership.conversation = conversation
        return membership
    membership = member_rows(conversation_id=conversation_id, user_id=user.pk).select_related("conversation").first()
    if membership is not None:
        return membership
    raise membership_refusal(conversation_exists=Conversation.objects.filter(pk=conversation_id).exists())


def conversation_get_for_member(*, user: User, conversation_id: int) -> Conversation:
    return membership_access(user=user, conversation_id=conversation_id).conversation


def user_is_member(*, user_id: Any, conversation_id: int) -> bool:
    return member_rows(conversation_id=conversation_id, user_id=user_id).exists()


def membership_require_admin(membership: Membership) -> None:
    if membership.role != Membership.Role.ADMIN:
        raise Forbidden("Only an admin of this conversation may do that.", code="not_admin")


def message_get_for_member(*, user: User, message_id: int, deleted_is_error: bool = False) -> Message:
    """A live message of one of the caller's conversations, with its sender loaded.

    `deleted_is_error`: a member asking to act on a deleted message of their own
    conversation is told so (400 `message_deleted`); anyone else still gets 404."""
    messages = Message.objects.select_related("sender").filter(pk=message_id)
    if not deleted_is_error:
        messages = messages.filter(is_deleted=False)
    message = messages.annotate(
        caller_is_member=Exists(member_rows(conversation_id=OuterRef("conversation_id"), user_id=user.pk))
    ).first()
    if message is None or not message.caller_is_member:  # type: ignore[attr-defined]
        raise NotFound("Message not found.")
    if message.is_deleted:
        raise message_deleted()
    return message


def message_deleted() -> AppError:
    return InvalidInput("That message was deleted.", code="message_deleted")


def message_get_for_sender(*, user: User, message_id: int) -> Message:
    message = message_get_for_member(user=user, message_id=message_id)
    if message.sender_id != user.pk:
        raise Forbidden("Only the sender may change this message.", code="not_sender")
    return message


def message_pin_allowed(membership: Membership) -> None:
    """Who may pin or unpin in a conversation (its `conversation` loaded)."""
    if membership.conversation.kind == Conversation.Kind.GROUP:
        membership_require_admin(membership)

"""The only place that decides who may reach a conversation or a message.

Rules:
- a conversation is visible to its members; anyone else gets 403, and 404 only when
  the conversation does not exist (the seed's contract);
- a message is visible to the members of its conversation while it is not deleted;
  for anyone else it does not exist (404), so ids cannot be probed;
- only a message's sender may edit or delete it (403 for the other members).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from parley.common.errors import Forbidden, NotFound, NotParticipant
from parley.models import Conversation, Membership, Message
from parley.users import User


def membership_get(*, user: User, conversation_id: int) -> Membership:
    """The caller's membership with its conversation loaded, in one query."""
    membership = (
        Membership.objects.select_related("conversation").filter(conversation_id=conversation_id, user=user).first()
    )
    if membership is not None:
        return membership
    if Conversation.objects.filter(pk=conversation_id).exists():
        raise NotParticipant()
    raise NotFound("Conversation not found.")


def conversation_get_for_member(*, user: User, conversation_id: int) -> Conversation:
    return membership_get(user=user, conversation_id=conversation_id).conversation


def membership_require_admin(membership: Membership) -> None:
    if membership.role != Membership.Role.ADMIN:
        raise Forbidden("Only an admin of this conversation may do that.", code="not_admin")


def message_get_for_member(*, user: User, message_id: int) -> Message:
    """A live message of one of the caller's conversations, with its sender loaded."""
    message = (
        Message.objects.select_related("sender")
        .filter(pk=message_id, is_deleted=False)
        .annotate(
            caller_is_member=Exists(Membership.objects.filter(conversation_id=OuterRef("conversation_id"), user=user))
        )
        .first()
    )
    if message is None or not message.caller_is_member:  # type: ignore[attr-defined]
        raise NotFound("Message not found.")
    return message


def message_get_for_sender(*, user: User, message_id: int) -> Message:
    message = message_get_for_member(user=user, message_id=message_id)
    if message.sender_id != user.pk:
        raise Forbidden("Only the sender may change this message.", code="not_sender")
    return message


def user_is_member(*, user_id: int, conversation_id: int) -> bool:
    return Membership.objects.filter(conversation_id=conversation_id, user_id=user_id).exists()

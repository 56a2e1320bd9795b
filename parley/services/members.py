"""Group membership: add, remove, leave. Each change is a durable, numbered event."""

from __future__ import annotations

from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.db.models import Max

from parley import access, events
from parley.common.errors import InvalidInput, NotFound
from parley.conf import parley_settings
from parley.models import Conversation, Event, Membership, Message
from parley.services.blocks import block_refusal_check
from parley.services.reads import messages_mark_read_by_all
from parley.services.sequencing import ConversationWrite, conversation_write
from parley.services.validation import clean_user_id, clean_user_id_list
from parley.users import User, display_name, wire_id


def members_add(*, actor: User, conversation_id: int, user_ids: object) -> list[User]:
    """Add users to a group (any member may); returns the users actually added.

    New members start with everything before their arrival read, and their sockets
    receive `conversation.created`; the group gets `members.added`.
    """
    from parley.services.conversations import conversation_created_frames

    ids = clean_user_id_list(user_ids, field="participants")
    if not ids:
        raise InvalidInput("Name at least one user.", field="participants", code="required")
    access.membership_access(user=actor, conversation_id=conversation_id)
    users = list(get_user_model()._default_manager.filter(pk__in=ids, is_active=True).order_by("pk"))
    missing = sorted(set(ids) - {u.pk for u in users})
    if missing:
        raise InvalidInput(f"No such user: {', '.join(map(str, missing))}.", field="participants", code="unknown_user")
    with conversation_write(conversation_id, member=actor) as write:  # still a member, now it is locked
        conversation = write.conversation
        if conversation.kind != Conversation.Kind.GROUP:
            raise InvalidInput("Members can only be added to a group.", code="not_a_group")
        present = set(Membership.objects.filter(conversation=conversation).values_list("user_id", flat=True))
        new = [u for u in users if u.pk not in present]
        if not new:
            return []
        block_refusal_check(user=actor, other_ids=[u.pk for u in new])
        if len(present) + len(new) > parley_settings.MAX_GROUP_MEMBERS:
            raise InvalidInput(
                f"A group has at most {parley_settings.MAX_GROUP_MEMBERS} members.",
                field="participants",
                code="group_full",
            )
        latest = Message.objects.filter(conversation=conversation).aggregate(latest=Max("id"))["latest"] or 0
        Membership.objects.bulk_create(
            [Membership(conversation=conversation, user=u, last_read_message_id=latest) for u in new]
        )
        write.append(
            Event.Type.MEMBERS_ADDED,
            actor_id=actor.pk,
            data={"users": [{"id": wire_id(u.pk), "username": display_name(u)} for u in new]},
        )
        new_ids = [u.pk for u in new]
        write.publish_after(lambda: conversation_created_frames(conversation_id=conversation_id, user_ids=new_ids))
    return new


def member_remove(*, actor: User, conversation_id: int, user_id: object) -> None:
    """Remove a member of a group: an admin may remove anyone, anyone may remove
    themselves (leave). The removed user's sockets stop receiving the group at once.

    If the last admin leaves, the longest-standing member becomes admin; if the last
    member leaves, the group is deleted.
    """
    target_id = clean_user_id(user_id, field="user")
    actor_membership = access.membership_access(user=actor, conversation_id=conversation_id)
    if actor_membership.conversation.kind != Conversation.Kind.GROUP:
        raise InvalidInput("Nobody can leave a direct conversation; delete it to hide it.", code="not_a_group")
    if target_id != actor.pk:
        access.membership_require_admin(actor_membership)
    with conversation_write(conversation_id, member=actor) as write:
        if target_id != actor.pk:  # and still an admin, now that it is locked
            access.membership_require_admin(write.membership)  # type: ignore[arg-type]
        reason: Literal["left", "removed"] = "left" if target_id == actor.pk else "removed"
        member_remove_locked(write, target_id=target_id, actor_id=actor.pk, reason=reason)


def member_remove_locked(
    write: ConversationWrite, *, target_id: Any, actor_id: Any, reason: Literal["left", "removed"]
) -> None:
    """Remove a member of the locked group (the caller checked who may): `member.removed`
    for the group, `conversation.removed` for the member's sockets; the last admin's
    successor named; an emptied group deleted."""
    conversation_id = write.conversation.pk
    target = access.member_rows(conversation_id=conversation_id, user_id=target_id).first()
    if target is None:
        raise NotFound("That user is not a member of this conversation.", code="not_member")
    target.delete()
    remaining = Membership.objects.filter(conversation_id=conversation_id).order_by("joined_at", "id")
    if not remaining.exists():
        write.conversation.delete()
        events.publish_on_commit(
            events.conversation_removed(conversation_id=conversation_id, reason="left"), users=[target_id]
        )
        return
    if target.role == Membership.Role.ADMIN and not remaining.filter(role=Membership.Role.ADMIN).exists():
        successor = remaining.first()
        assert successor is not None
        Membership.objects.filter(pk=successor.pk).update(role=Membership.Role.ADMIN)
    # Messages that waited only for the removed member are now read by everyone.
    messages_mark_read_by_all(conversation_id=conversation_id)
    write.append(Event.Type.MEMBER_REMOVED, actor_id=actor_id, data={"user": wire_id(target_id)})
    write.publish_after(events.conversation_removed(conversation_id=conversation_id, reason=reason), users=[target_id])


def member_leave(*, user: User, conversation_id: int) -> None:
    member_remove(actor=user, conversation_id=conversation_id, user_id=user.pk)

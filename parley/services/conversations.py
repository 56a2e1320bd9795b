"""Starting, creating, renaming and deleting conversations."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from parley import access, events, selectors
from parley.attachments import attachment_discard
from parley.common.errors import InvalidInput
from parley.conf import parley_settings
from parley.models import Conversation, Event, Membership, Message
from parley.services.blocks import block_refusal_check
from parley.services.members import member_remove
from parley.services.sequencing import conversation_write
from parley.services.validation import clean_title, clean_user_id, clean_user_id_list
from parley.users import User


def _active_users(ids: list[int], *, field: str) -> list[User]:
    users = list(get_user_model()._default_manager.filter(pk__in=ids, is_active=True))
    missing = sorted(set(ids) - {u.pk for u in users})
    if missing:
        raise InvalidInput(f"No such user: {', '.join(map(str, missing))}.", field=field, code="unknown_user")
    return users


def conversation_created_frames(*, conversation_id: int, user_ids: list[Any]) -> dict[Any, events.ServerFrame]:
    """Rendered after commit: each new member's `conversation.created`, with their own
    view of it, so that their sockets learn of it (and subscribe)."""
    views = selectors.conversation_json_for_members(conversation_id=conversation_id, user_ids=user_ids)
    return {user_id: events.conversation_created(conversation=view) for user_id, view in views.items()}


def _publish_created(*, conversation_id: int, user_ids: list[Any]) -> None:
    events.publish_on_commit(lambda: conversation_created_frames(conversation_id=conversation_id, user_ids=user_ids))


def conversation_start_direct(*, user: User, other_user_id: object) -> tuple[Conversation, bool]:
    """The direct conversation of a pair, created on first use: `(conversation, created)`.

    Unique per pair whichever side starts it; concurrent starts meet on the unique
    `direct_key` and all but one return the winner's conversation.
    """
    other_id = clean_user_id(other_user_id, field="user2")
    if other_id == user.pk:
        raise InvalidInput("You cannot start a conversation with yourself.", field="user2", code="self_conversation")
    _active_users([other_id], field="user2")
    block_refusal_check(user=user, other_ids=[other_id])
    low, high = sorted((user.pk, other_id))
    key = f"{low}:{high}"
    existing = Conversation.objects.filter(direct_key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                now = timezone.now()
                conversation = Conversation.objects.create(
                    kind=Conversation.Kind.DIRECT, direct_key=key, created_by=user, created_at=now, updated_at=now
                )
                Membership.objects.bulk_create(
                    [Membership(conversation=conversation, user_id=uid, joined_at=now) for uid in (low, high)]
                )
        except IntegrityError:
            existing = Conversation.objects.get(direct_key=key)
        else:
            _publish_created(conversation_id=conversation.pk, user_ids=[low, high])
            return conversation, True
    # Starting again shows a conversation the caller had hidden.
    if Membership.objects.filter(conversation=existing, user=user, hidden=True).update(hidden=False):
        _publish_created(conversation_id=existing.pk, user_ids=[user.pk])
    return existing, False


def conversation_create_group(*, creator: User, title: object, participant_ids: object) -> Conversation:
    """A group of the creator (its admin) and the given users."""
    clean = clean_title(title)
    ids = [i for i in clean_user_id_list(participant_ids, field="participants") if i != creator.pk]
    if len(ids) + 1 > parley_settings.MAX_GROUP_MEMBERS:
        raise InvalidInput(
            f"A group has at most {parley_settings.MAX_GROUP_MEMBERS} members.", field="participants", code="group_full"
        )
    _active_users(ids, field="participants")
    block_refusal_check(user=creator, other_ids=ids)
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.create(
            kind=Conversation.Kind.GROUP, title=clean, created_by=creator, created_at=now, updated_at=now
        )
        Membership.objects.bulk_create(
            [Membership(conversation=conversation, user=creator, role=Membership.Role.ADMIN, joined_at=now)]
            + [Membership(conversation=conversation, user_id=uid, joined_at=now) for uid in ids]
        )
        _publish_created(conversation_id=conversation.pk, user_ids=[creator.pk, *ids])
    return conversation


def conversation_rename(*, user: User, conversation_id: int, title: object) -> Conversation:
    """Change a group's title (any member may); publishes `conversation.renamed`."""
    clean = clean_title(title)
    access.membership_access(user=user, conversation_id=conversation_id)
    with conversation_write(conversation_id, member=user) as write:
        conversation = write.conversation
        if clean != conversation.title:
            if conversation.kind == Conversation.Kind.DIRECT:
                raise InvalidInput("Direct conversations have no title.", field="title", code="direct_title")
            write.touch(title=clean)
            write.append(Event.Type.CONVERSATION_RENAMED, actor_id=user.pk, data={"title": clean})
    return conversation


def conversation_delete(*, user: User, conversation_id: int) -> None:
    """DELETE on a conversation, by kind and role:

    - direct: hidden for the caller until new activity (the other side keeps it);
    - group, admin: deleted for everyone, with its messages and files;
    - group, member: the caller leaves it.
    """
    membership = access.membership_access(user=user, conversation_id=conversation_id)
    conversation = membership.conversation
    if conversation.kind == Conversation.Kind.DIRECT:
        Membership.objects.filter(pk=membership.pk).update(hidden=True)
        events.publish_on_commit(
            events.conversation_removed(conversation_id=conversation_id, reason="hidden"), users=[user.pk]
        )
        return
    if membership.role != Membership.Role.ADMIN:
        member_remove(actor=user, conversation_id=conversation_id, user_id=user.pk)
        return
    with conversation_write(conversation_id, member=user) as write:
        member_ids = list(Membership.objects.filter(conversation_id=conversation_id).values_list("user_id", flat=True))
        files = [
            name
            for name in Message.objects.filter(conversation_id=conversation_id)
            .exclude(attachment="")
            .values_list("attachment", flat=True)
        ]
        write.conversation.delete()
        removed = events.conversation_removed(conversation_id=conversation_id, reason="deleted")
        write.publish_after(removed, conversation=conversation_id, users=member_ids)
        for name in files:
            write.after_commit(functools.partial(attachment_discard, name))

"""Blocking and unblocking a user (SPEC 11).

Between a blocker and the user they blocked, whichever side asks:
- no direct conversation starts (`start/` answers 403 `blocked`);
- no message is sent in their direct conversation (REST and socket; the send path's
  SQL gate checks the block under the conversation lock, parley.services.sending);
- neither adds the other to a group.
In a group both are in, both stay and both may write; the blocker's reads mark the
blocked user's messages `sender_blocked: true`.

A block takes the pair's direct conversation lock before it is stored: a send that
holds the lock commits first (it was sent before the block), a send that waits for
it runs its gate after the block committed and is refused. So once a block is
acknowledged no message of the pair gets through.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from parley import access
from parley.common.errors import Blocked, InvalidInput, NotFound
from parley.models import Block, Conversation
from parley.selectors.blocks import blocks_between
from parley.services.validation import clean_user_id
from parley.users import User


def direct_key(a: object, b: object) -> str:
    """The `direct_key` of a pair's conversation (parley.models.Conversation)."""
    low, high = sorted((a, b))  # type: ignore[type-var]
    return f"{low}:{high}"


def block_refusal_check(*, user: User, other_ids: list[object]) -> None:
    """403 `blocked` when the user and any of `other_ids` blocked one another."""
    if blocks_between(user_id=user.pk, other_ids=other_ids):
        raise Blocked()


def block_create(*, blocker: User, user_id: object) -> Block:
    """Block a user: 400 for oneself or twice, 404 for no such user."""
    target_id = clean_user_id(user_id, field="user")
    if target_id == blocker.pk:
        raise InvalidInput("You cannot block yourself.", field="user", code="self_block")
    if not get_user_model()._default_manager.filter(pk=target_id).exists():
        raise NotFound("No such user.", code="unknown_user")
    try:
        with transaction.atomic():
            direct = Conversation.objects.filter(direct_key=direct_key(blocker.pk, target_id))
            for conversation_id in direct.values_list("pk", flat=True):
                access.conversation_lock(conversation_id)  # queue behind any send of the pair
            if Block.objects.filter(blocker=blocker, blocked_id=target_id).exists():
                raise InvalidInput("You already blocked this user.", field="user", code="already_blocked")
            return Block.objects.create(blocker=blocker, blocked_id=target_id)
    except IntegrityError:  # a concurrent block of the same pair won
        raise InvalidInput("You already blocked this user.", field="user", code="already_blocked") from None


def block_delete(*, blocker: User, user_id: object) -> None:
    """Unblock a user: 404 `not_blocked` when they were not blocked."""
    target_id = clean_user_id(user_id, field="user")
    deleted, _ = Block.objects.filter(blocker=blocker, blocked_id=target_id).delete()
    if not deleted:
        raise NotFound("You have not blocked this user.", code="not_blocked")

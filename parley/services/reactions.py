"""Reactions: one user, one emoji, one message; `reaction.added` / `reaction.removed`.

An emoji is one Unicode emoji (a skin tone or ZWJ sequence counts as one) or a short
name of the `emoji` package's fixed alias set (`:thumbsup:`), normalised to its fully
qualified form, so that "❤" and "❤️" are the same reaction.
"""

from __future__ import annotations

from typing import Any

import emoji as emoji_data

from parley import access
from parley.common.errors import InvalidInput, NotFound
from parley.message_parts import reaction_summary_of
from parley.models import Event, Message, Reaction
from parley.services.sequencing import ConversationWrite, conversation_write
from parley.users import User

MAX_EMOJI_PER_USER = 20  # distinct emoji one user may put on one message


def clean_emoji(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise InvalidInput("Give one emoji, or a short name such as :thumbsup:.", field="emoji", code="invalid_emoji")
    text = value.strip()
    if text.startswith(":") and text.endswith(":"):
        text = emoji_data.emojize(text, language="alias")
    if not emoji_data.is_emoji(text):
        raise InvalidInput(f"{value!r} is not one emoji.", field="emoji", code="invalid_emoji")
    # Through its name and back: the fully qualified form of the same emoji.
    return str(emoji_data.emojize(emoji_data.demojize(text, language="alias"), language="alias"))


def _live_message(write: ConversationWrite, *, message_id: int) -> Message:
    message = Message.objects.select_related("sender").filter(pk=message_id).first()
    if message is None or message.conversation_id != write.conversation.pk:
        raise NotFound("Message not found.")
    if message.is_deleted:  # deleted while we waited for the lock
        raise access.message_deleted()
    return message


def _summary_refresh(message: Message) -> None:
    """The message's counts from its Reaction rows, in the same transaction."""
    message.reaction_summary = reaction_summary_of(message.pk)
    message.save(update_fields=["reaction_summary"])


def reaction_add(*, user: User, message_id: int, emoji: Any) -> tuple[Message, bool]:
    """React to a live message of one of the caller's conversations: `(message,
    created)`; created is False when the caller had already reacted with that emoji."""
    value = clean_emoji(emoji)
    checked = access.message_get_for_member(user=user, message_id=message_id, deleted_is_error=True)
    with conversation_write(checked.conversation_id, member=user) as write:
        message = _live_message(write, message_id=message_id)
        mine = Reaction.objects.filter(message=message, user=user)
        if mine.filter(emoji=value).exists():
            return message, False
        if mine.count() >= MAX_EMOJI_PER_USER:
            raise InvalidInput(
                f"At most {MAX_EMOJI_PER_USER} different reactions per message.", code="too_many_reactions"
            )
        # Under the conversation's lock, so the check above cannot race; the unique
        # constraint backs it.
        Reaction.objects.create(message=message, user=user, emoji=value)
        _summary_refresh(message)
        write.append(Event.Type.REACTION_ADDED, message_id=message.pk, actor_id=user.pk, data={"emoji": value})
    return message, True


def reaction_remove(*, user: User, message_id: int, emoji: Any) -> Message:
    """Take the caller's reaction back; 404 `reaction_not_found` if there was none."""
    value = clean_emoji(emoji)
    checked = access.message_get_for_member(user=user, message_id=message_id, deleted_is_error=True)
    with conversation_write(checked.conversation_id, member=user) as write:
        message = _live_message(write, message_id=message_id)
        deleted, _ = Reaction.objects.filter(message=message, user=user, emoji=value).delete()
        if not deleted:
            raise NotFound("You have not reacted with that emoji.", code="reaction_not_found")
        _summary_refresh(message)
        write.append(Event.Type.REACTION_REMOVED, message_id=message.pk, actor_id=user.pk, data={"emoji": value})
    return message

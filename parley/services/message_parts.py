"""What a send adds beside the message row (SPEC 10): the reply's parent and the mentions.

Both are checked after the send has locked the conversation and in its transaction, so
a refusal (400 `reply_to_invalid`, `message_deleted`, `mention_not_member`) stores
nothing, and the unread mention counts move in the same transaction as the unread
counts (parley.services.sending).

    clean_reply_to, clean_mentions     input rules (REST and socket alike)
    wants_parts                        whether a send needs this slower path at all
    reply_parent                       the parent, locked conversation, or the refusal
    mentions_resolve                   explicit ids (members only) and `@username`s
    mentions_store                     the rows, the column, `unread_mentions`
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F
from django.db.models.functions import Lower

from parley.common.errors import InvalidInput
from parley.models import Membership, Message, MessageMention
from parley.services.validation import clean_id, clean_user_id_list
from parley.users import wire_id

MAX_MENTIONS = 50
# `@name` up to whitespace; trailing punctuation is not part of the name. An email-like
# USERNAME_FIELD (`@ann@example.com`) is one token.
MENTION = re.compile(r"(?<![\w@])@([^\s@]+(?:@[^\s@]+)?)")
TRAILING = ".,;:!?)]}'\""


def clean_reply_to(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return clean_id(value, field="reply_to")
    except InvalidInput as error:
        raise InvalidInput(error.detail, field="reply_to", code="reply_to_invalid") from None


def clean_mentions(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if not isinstance(value, list | tuple):
        value = [value]  # a form field sent once
    ids = clean_user_id_list(value, field="mentions")
    if len(ids) > MAX_MENTIONS:
        raise InvalidInput(f"At most {MAX_MENTIONS} mentions.", field="mentions", code="too_many_mentions")
    return ids


def wants_parts(*, reply_to: int | None, mentions: list[Any], content: str) -> bool:
    return reply_to is not None or bool(mentions) or "@" in content


def reply_parent(*, conversation_id: int, reply_to: int) -> Message:
    parent = Message.objects.select_related("sender").filter(pk=reply_to).first()
    if parent is None or parent.conversation_id != conversation_id:
        raise InvalidInput(
            "reply_to must be a message of this conversation.", field="reply_to", code="reply_to_invalid"
        )
    if parent.is_deleted:
        raise InvalidInput("That message was deleted.", field="reply_to", code="message_deleted")
    return parent


def _names_in(content: str) -> list[str]:
    """The `@name`s of `content`, lowercased, in order of appearance."""
    names = (match.rstrip(TRAILING).lower() for match in MENTION.findall(content))
    return [name for name in dict.fromkeys(names) if name]


def mentions_resolve(*, conversation_id: int, sender_id: Any, content: str, explicit: list[Any]) -> list[Any]:
    """The members mentioned: every explicit id must be a member (else 400
    `mention_not_member`); an `@name` that is no member's username is just text. The
    sender is never among them. One query."""
    names = _names_in(content)
    if not explicit and not names:
        return []
    username = get_user_model().USERNAME_FIELD
    members = Membership.objects.filter(conversation_id=conversation_id).annotate(name=Lower(f"user__{username}"))
    found = {row["user_id"]: row["name"] for row in members.filter(user_id__in=explicit).values("user_id", "name")}
    if names:
        found.update({row["user_id"]: row["name"] for row in members.filter(name__in=names).values("user_id", "name")})
    missing = [wire_id(user_id) for user_id in explicit if user_id not in found]
    if missing:
        raise InvalidInput(
            f"Not members of this conversation: {', '.join(str(m) for m in missing)}.",
            field="mentions",
            code="mention_not_member",
        )
    by_name = {name: user_id for user_id, name in found.items()}
    ordered = [*explicit, *(by_name[name] for name in names if name in by_name)]
    return [user_id for user_id in dict.fromkeys(ordered) if user_id != sender_id]


def mentions_store(*, message_id: int, conversation_id: int, user_ids: list[Any]) -> list[Any]:
    """Record the mentions of a message just inserted (after every member's read
    pointer but its sender's): one more unread mention for each. Returns their wire ids."""
    if not user_ids:
        return []
    MessageMention.objects.bulk_create(
        [MessageMention(message_id=message_id, conversation_id=conversation_id, user_id=u) for u in user_ids]
    )
    wire = [wire_id(u) for u in user_ids]
    Message.objects.filter(pk=message_id).update(mentions=json.dumps(wire))
    Membership.objects.filter(conversation_id=conversation_id, user_id__in=user_ids).update(
        unread_mentions=F("unread_mentions") + 1
    )
    return wire

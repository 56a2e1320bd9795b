"""A user's own data, for an export (SPEC 11): the host adds its profile part.

conversations   every conversation the user is in: id, kind, title, created_at,
                their role and join time, the other members (id, name)
messages        every live message the user sent, in any conversation (also those
                they left), oldest first
blocked         the users they blocked
"""

from __future__ import annotations

from typing import Any

from parley.models import Membership, Message
from parley.selectors.blocks import blocks_of
from parley.users import display_names, wire_id


def user_export_data(*, user_id: Any) -> dict[str, Any]:
    memberships = list(
        Membership.objects.filter(user_id=user_id).select_related("conversation").order_by("conversation_id")
    )
    ids = [m.conversation_id for m in memberships]
    members: dict[int, list[Any]] = {}
    for conversation_id, member_id in Membership.objects.filter(conversation_id__in=ids).values_list(
        "conversation_id", "user_id"
    ):
        members.setdefault(conversation_id, []).append(member_id)
    names = display_names(pk for pks in members.values() for pk in pks)
    conversations = [
        {
            "id": m.conversation_id,
            "kind": m.conversation.kind,
            "title": m.conversation.title,
            "created_at": m.conversation.created_at,
            "role": m.role,
            "joined_at": m.joined_at,
            "participants": [
                {"id": wire_id(pk), "username": names.get(pk, "")}
                for pk in sorted(members.get(m.conversation_id, []), key=str)
            ],
        }
        for m in memberships
    ]
    messages = [
        {
            "id": row["id"],
            "conversation": row["conversation_id"],
            "content": row["content"],
            "attachment_name": row["attachment_name"] or None,
            "timestamp": row["timestamp"],
            "edited_at": row["edited_at"],
        }
        for row in Message.objects.filter(sender_id=user_id, is_deleted=False)
        .order_by("id")
        .values("id", "conversation_id", "content", "attachment_name", "timestamp", "edited_at")
    ]
    return {"conversations": conversations, "messages": messages, "blocked": blocks_of(user_id=user_id)}

"""Reads of conversations: the list, and one member's (or each member's) view of one.

A page of the list costs four queries whatever its length (tests/test_queries.py):
memberships and conversations, members, the newest message ids of every conversation
in one statement, the messages.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q

from parley.models import Conversation, Membership, Message
from parley.representations import conversation_json, member_values, with_names
from parley.selectors.messages import message_json_by_id

CONVERSATION_COLUMNS = ("id", "kind", "title", "last_seq", "created_at", "updated_at", "last_message_id")


def _recent_message_ids(conversation_ids: list[int], per_conversation: int) -> list[int]:
    """The newest live message ids of each conversation, in one statement: one short
    backward index scan per conversation, where a window function would read every
    message of every conversation first.

    PostgreSQL runs it as a LATERAL join over the ids (planned once); SQLite, which has
    no LATERAL, as a UNION ALL of one index-ordered LIMIT per conversation. On
    PostgreSQL the UNION cost 7-8 ms to plan for a page of 50 conversations (bench S3).
    """
    if not conversation_ids or per_conversation <= 0:
        return []
    table = Message._meta.db_table
    params: list[Any]
    if connection.vendor == "postgresql":
        # The table name is our own; every value is a parameter.
        sql = (
            "SELECT m.id FROM unnest(%s::bigint[]) AS c(id) CROSS JOIN LATERAL ("  # noqa: S608
            f"SELECT id FROM {table} WHERE conversation_id = c.id AND NOT is_deleted ORDER BY id DESC LIMIT %s) AS m"
        )
        params = [list(conversation_ids), per_conversation]
    else:
        part = (
            f"SELECT * FROM (SELECT id FROM {table} WHERE conversation_id = %s AND is_deleted = %s "  # noqa: S608
            f"ORDER BY id DESC LIMIT %s) AS r{{n}}"
        )
        sql = " UNION ALL ".join(part.format(n=n) for n in range(len(conversation_ids)))
        params = []
        for conversation_id in conversation_ids:
            params += [conversation_id, False, per_conversation]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _conversations_json(
    conversations: list[dict[str, Any]], *, for_users: dict[int, list[int]], embed: int, viewer_id: Any = None
) -> dict[tuple[int, int], dict[str, Any]]:
    """JSON for each (conversation id, user id) asked for, with four or five queries;
    reactions' `me` from `viewer_id`'s point of view (None for a fan-out to many)."""
    ids = [c["id"] for c in conversations]
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = list(
        member_values(Membership.objects.filter(conversation_id__in=ids).order_by("conversation_id", "joined_at", "id"))
    )
    for row in with_names(rows, id_key="user_id", name_key="user_name"):
        members[row["conversation_id"]].append(row)
    wanted = set(_recent_message_ids(ids, embed))
    wanted.update(c["last_message_id"] for c in conversations if c["last_message_id"])
    messages = message_json_by_id(sorted(wanted), viewer_id=viewer_id) if wanted else {}
    recent: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for message_id in sorted(wanted):
        message = messages.get(message_id)
        if message is not None and not message["is_deleted"]:
            recent[message["conversation"]].append(message)
    result: dict[tuple[int, int], dict[str, Any]] = {}
    for conversation in conversations:
        cid = conversation["id"]
        embedded = recent[cid][-embed:] if embed > 0 else []
        last = messages.get(conversation["last_message_id"]) if conversation["last_message_id"] else None
        by_user = {m["user_id"]: m for m in members[cid]}
        for user_id in for_users.get(cid, []):
            own = by_user.get(user_id)
            if own is None:
                continue
            result[(cid, user_id)] = conversation_json(
                conversation, membership=own, members=members[cid], messages=embedded, last_message=last
            )
    return result


def conversation_json_for_user(*, user_id: int, conversation_id: int, embed: int) -> dict[str, Any] | None:
    rows = list(Conversation.objects.filter(pk=conversation_id).values(*CONVERSATION_COLUMNS))
    if not rows:
        return None
    return _conversations_json(rows, for_users={conversation_id: [user_id]}, embed=embed, viewer_id=user_id).get(
        (conversation_id, user_id)
    )


def conversation_json_for_members(*, conversation_id: int, user_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each member's view of one conversation (for `conversation.created` fan-out)."""
    rows = list(Conversation.objects.filter(pk=conversation_id).values(*CONVERSATION_COLUMNS))
    if not rows:
        return {}
    views = _conversations_json(rows, for_users={conversation_id: user_ids}, embed=0)
    return {user_id: view for (_, user_id), view in views.items()}


@dataclass(frozen=True)
class ConversationCursor:
    updated_at: datetime
    id: int


@dataclass(frozen=True)
class ConversationPage:
    results: list[dict[str, Any]]
    next_cursor: ConversationCursor | None


# Pinned conversations all lead the first page of the list (services.member_state caps them).
MAX_PINNED_CONVERSATIONS = 20


def conversation_list_for_user(
    *,
    user_id: int,
    search: str = "",
    limit: int,
    cursor: ConversationCursor | None = None,
    embed: int,
    archived: bool = False,
) -> ConversationPage:
    """The user's visible conversations, latest activity first, `limit` per page.

    Archived ones only with `archived` (and then only they). The member's pinned
    conversations lead the first page, most recently pinned first, beside its `limit`
    others; later pages (a cursor) hold only unpinned ones."""
    # Driven from the user's memberships (a join), so the cost follows the number of
    # conversations the user is in, not the size of the table.
    conversations = Conversation.objects.filter(
        memberships__user_id=user_id, memberships__hidden=False, memberships__archived=archived
    ).annotate(member_pinned_at=F("memberships__pinned_at"))  # the same join as the filter
    if search:
        name_lookup = f"user__{get_user_model().USERNAME_FIELD}__icontains"
        named = Membership.objects.filter(conversation_id=OuterRef("pk"), **{name_lookup: search}).exclude(
            user_id=user_id
        )
        conversations = conversations.filter(Q(Exists(named)) | Q(title__icontains=search))
    pinned: list[dict[str, Any]] = []
    if cursor is not None:
        conversations = conversations.filter(member_pinned_at__isnull=True).filter(
            Q(updated_at__lt=cursor.updated_at) | Q(updated_at=cursor.updated_at, id__lt=cursor.id)
        )
        rows = list(conversations.order_by("-updated_at", "-id").values(*CONVERSATION_COLUMNS)[: limit + 1])
    else:
        # One query for both: the pinned ones sort first.
        ordered = conversations.order_by(F("member_pinned_at").desc(nulls_last=True), "-updated_at", "-id")
        both = list(ordered.values(*CONVERSATION_COLUMNS, "member_pinned_at")[: MAX_PINNED_CONVERSATIONS + limit + 1])
        pinned = [row for row in both if row["member_pinned_at"] is not None]
        rows = [row for row in both if row["member_pinned_at"] is None][: limit + 1]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = ConversationCursor(updated_at=rows[-1]["updated_at"], id=rows[-1]["id"])
    rows = pinned + rows
    views = _conversations_json(rows, for_users={r["id"]: [user_id] for r in rows}, embed=embed, viewer_id=user_id)
    return ConversationPage([views[(r["id"], user_id)] for r in rows if (r["id"], user_id) in views], next_cursor)

"""Every read of the chat, with an explicit query shape.

Lists cost a constant number of queries whatever their length (tests/test_queries.py):

    conversation list   memberships+conversations, members, recent message ids, messages
    message history     one query (keyset) or two (page mode: the seed's `count`)
    events after a seq  events, messages they name

Rows are read with `.values()` and turned into JSON by chat.representations.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from parley import access, events
from parley.models import Conversation, Event, Membership, Message
from parley.representations import (
    conversation_json,
    member_values,
    message_rows_json,
    message_values,
    with_names,
)

CONVERSATION_COLUMNS = ("id", "kind", "title", "last_seq", "created_at", "updated_at", "last_message_id")


# --- Messages -------------------------------------------------------------------------------


def live_messages(*, conversation_id: int) -> QuerySet[Message]:
    return Message.objects.filter(conversation_id=conversation_id, is_deleted=False)


def messages_visible_to(*, user_id: int, conversation_id: int | None = None) -> QuerySet[Message]:
    """Live messages of the conversations the user belongs to."""
    messages = Message.objects.filter(is_deleted=False)
    if conversation_id is not None:
        messages = messages.filter(conversation_id=conversation_id)
    return messages.filter(Exists(access.member_rows(conversation_id=OuterRef("conversation_id"), user_id=user_id)))


@dataclass(frozen=True)
class KeysetPage:
    results: list[dict[str, Any]]
    has_older: bool
    has_newer: bool


def message_keyset_page(
    messages: QuerySet[Message], *, before: int | None, after: int | None, limit: int
) -> KeysetPage:
    """Up to `limit` messages next to a message id, oldest first, without counting.

    No cursor: the newest page. `before`: the messages just older than that id.
    `after`: the messages just newer. One index range scan at any depth.
    """
    if after is not None:
        rows = list(message_values(messages.filter(id__gt=after).order_by("id"))[: limit + 1])
        has_more = len(rows) > limit
        rows = rows[:limit]
        return KeysetPage(message_rows_json(rows), has_older=after > 0, has_newer=has_more)
    if before is not None:
        messages = messages.filter(id__lt=before)
    rows = list(message_values(messages.order_by("-id"))[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    return KeysetPage(message_rows_json(rows), has_older=has_more, has_newer=before is not None)


def message_offset_page(messages: QuerySet[Message], *, offset: int, limit: int) -> list[dict[str, Any]]:
    return message_rows_json(message_values(messages.order_by("id"))[offset : offset + limit])


def message_json_by_id(ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    if connection.vendor == "postgresql":
        # One array parameter instead of an IN list of hundreds: Django prepares and
        # psycopg parses every placeholder of such a list (bench S3: 10 % of a page).
        wanted = Message.objects.filter(id__in=RawSQL("SELECT unnest(%s::bigint[])", (list(ids),)))
    else:
        wanted = Message.objects.filter(id__in=ids)
    return {m["id"]: m for m in message_rows_json(message_values(wanted))}


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


# --- Conversations ----------------------------------------------------------------------------


def _conversations_json(
    conversations: list[dict[str, Any]], *, for_users: dict[int, list[int]], embed: int
) -> dict[tuple[int, int], dict[str, Any]]:
    """JSON for each (conversation id, user id) asked for, with three or four queries."""
    ids = [c["id"] for c in conversations]
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = list(
        member_values(Membership.objects.filter(conversation_id__in=ids).order_by("conversation_id", "joined_at", "id"))
    )
    for row in with_names(rows, id_key="user_id", name_key="user_name"):
        members[row["conversation_id"]].append(row)
    wanted = set(_recent_message_ids(ids, embed))
    wanted.update(c["last_message_id"] for c in conversations if c["last_message_id"])
    messages = message_json_by_id(sorted(wanted)) if wanted else {}
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
    return _conversations_json(rows, for_users={conversation_id: [user_id]}, embed=embed).get(
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


def conversation_list_for_user(
    *, user_id: int, search: str = "", limit: int, cursor: ConversationCursor | None = None, embed: int
) -> ConversationPage:
    """The user's visible conversations, latest activity first, `limit` per page."""
    # Driven from the user's memberships (a join), so the cost follows the number of
    # conversations the user is in, not the size of the table.
    conversations = Conversation.objects.filter(memberships__user_id=user_id, memberships__hidden=False)
    if search:
        name_lookup = f"user__{get_user_model().USERNAME_FIELD}__icontains"
        named = Membership.objects.filter(conversation_id=OuterRef("pk"), **{name_lookup: search}).exclude(
            user_id=user_id
        )
        conversations = conversations.filter(Q(Exists(named)) | Q(title__icontains=search))
    if cursor is not None:
        conversations = conversations.filter(
            Q(updated_at__lt=cursor.updated_at) | Q(updated_at=cursor.updated_at, id__lt=cursor.id)
        )
    rows = list(conversations.order_by("-updated_at", "-id").values(*CONVERSATION_COLUMNS)[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = ConversationCursor(updated_at=rows[-1]["updated_at"], id=rows[-1]["id"])
    views = _conversations_json(rows, for_users={r["id"]: [user_id] for r in rows}, embed=embed)
    return ConversationPage([views[(r["id"], user_id)] for r in rows if (r["id"], user_id) in views], next_cursor)


# --- Events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventPage:
    frames: list[events.DurableFrame]
    has_more: bool


def events_after(*, conversation_id: int, since: int, limit: int) -> EventPage:
    """Durable events with `seq > since`, in order, rendered as their WebSocket frames."""
    rows = list(Event.objects.filter(conversation_id=conversation_id, seq__gt=since).order_by("seq")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    message_ids = sorted(
        {
            e.message_id
            for e in rows
            if e.message_id and e.type in (Event.Type.MESSAGE_CREATED, Event.Type.MESSAGE_UPDATED)
        }
    )
    messages = message_json_by_id(message_ids)
    frames = []
    for event in rows:
        message = messages.get(event.message_id) if event.message_id else None
        if event.type in (Event.Type.MESSAGE_CREATED, Event.Type.MESSAGE_UPDATED) and message is None:
            continue  # unreachable while messages are only soft-deleted; never replay a stub
        frames.append(events.durable_frame(event, message=message))
    return EventPage(frames, has_more)

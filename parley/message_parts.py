"""The parts of a message's JSON that SPEC 10 added: reactions, the reply's quote, mentions.

A page of messages reads the reactions' counts and the mentions as columns of the
message (JSON text, decoded only when not empty; `reaction_summary` is kept with the
Reaction rows in the reacting transaction). Two lookups follow only when the page needs
them, each one fixed SQL statement (no ORM query building, which cost more than the
reads): the parents of the replies on the page (so a quote always shows the parent's
current state) and the reader's own reactions (`me`). A conversation's history page
reads both in its own statement (parley.selectors.history).

    json_list(text)                      a JSON text column as a list
    reaction_summary_of(message_id)      the summary, from the Reaction rows
    viewer_reactions(ids, viewer_id)     {message id: {emoji}} the viewer reacted with
    reactions_json(summary, mine)        [{emoji, count, me}]
    parent_quotes(ids), quote_of(parent) the `reply_to` object (quote_json: from columns)
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Min

from parley import users
from parley.models import Message, Reaction

QUOTE_LENGTH = 200
Mine = set[str] | frozenset[str]


def json_list(value: Any) -> list[Any]:
    if not value or value == "[]":
        return []
    if isinstance(value, list):
        return value
    return list(json.loads(value))


def _in_list(ids: list[Any]) -> tuple[str, list[Any]]:
    """`IN (...)` over ids: one array parameter on PostgreSQL (Django would prepare and
    psycopg parse one placeholder each; see selectors.messages.message_json_by_id)."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [ids]
    return f"IN ({', '.join(['%s'] * len(ids))})", ids


def parent_quotes(parent_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The quote of each parent as it is now, in one statement (a host's DISPLAY_NAME
    callable costs one more, for the names)."""
    ids = sorted(set(parent_ids))
    if not ids:
        return {}
    user_model = get_user_model()
    column = users.name_column()
    name = f'u."{user_model._meta.get_field(column).column}"' if column else "NULL"  # type: ignore[union-attr]
    where, params = _in_list(ids)
    pk = user_model._meta.pk.column  # type: ignore[union-attr]
    sql = (
        f"SELECT m.id, m.sender_id, substr(m.content, 1, {QUOTE_LENGTH}), m.is_deleted, {name} "  # noqa: S608
        f'FROM {Message._meta.db_table} m LEFT JOIN "{user_model._meta.db_table}" u '
        f'ON u."{pk}" = m.sender_id WHERE m.id {where}'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if column is None:
        # A raw row holds the key as the database does (SQLite: a UUID's hex text).
        to_python = user_model._meta.pk.to_python  # type: ignore[union-attr]
        rows = [(i, None if s is None else to_python(s), text, deleted, name) for i, s, text, deleted, name in rows]
        names = users.display_names(row[1] for row in rows)
        rows = [(i, sender, text, deleted, names.get(sender)) for i, sender, text, deleted, _ in rows]
    return {row[0]: quote_json(*row) for row in rows}


def quote_json(
    parent_id: int, sender_id: Any, text: str | None, deleted: Any, sender_name: str | None
) -> dict[str, Any]:
    """The `reply_to` object from a parent's columns (its first QUOTE_LENGTH characters)."""
    return {
        "id": parent_id,
        "sender_name": sender_name if sender_id is not None else users.DELETED_USER_NAME,
        "content": "" if deleted else (text or ""),
        "deleted": bool(deleted),
    }


def quote_of(parent: Message) -> dict[str, Any]:
    """The same quote from a parent at hand (its sender loaded or cached)."""
    return {
        "id": parent.pk,
        "sender_name": users.display_name(parent.sender),
        "content": "" if parent.is_deleted else parent.content[:QUOTE_LENGTH],
        "deleted": parent.is_deleted,
    }


def reaction_summary_of(message_id: int) -> str:
    """`[[emoji, count], ...]` as JSON text, emoji in order of first use, from the rows."""
    rows = (
        Reaction.objects.filter(message_id=message_id)
        .values("emoji")
        .annotate(count=Count("id"), first=Min("id"))
        .order_by("first")
    )
    return json.dumps([[row["emoji"], row["count"]] for row in rows], ensure_ascii=False)


def viewer_reactions(message_ids: Iterable[int], *, viewer_id: Any) -> dict[int, set[str]]:
    """The emoji `viewer_id` reacted with, per message, in one statement (none without a
    viewer or a message: a frame is rendered once for every member, so `me` is false)."""
    ids = sorted(set(message_ids))
    if viewer_id is None or not ids:
        return {}
    where, params = _in_list(ids)
    sql = f"SELECT message_id, emoji FROM {Reaction._meta.db_table} WHERE user_id = %s AND message_id {where}"  # noqa: S608
    mine: dict[int, set[str]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(sql, [users.user_db_value(viewer_id), *params])
        for message_id, emoji in cursor.fetchall():
            mine[message_id].add(emoji)
    return mine


def reactions_json(summary: Any, mine: Mine = frozenset()) -> list[dict[str, Any]]:
    return [{"emoji": emoji, "count": count, "me": emoji in mine} for emoji, count in json_list(summary)]

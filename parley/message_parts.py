"""The parts of a message's JSON that SPEC 10 added: reactions, the reply's quote, mentions.

A page of messages costs no query more than before: its reactions come in the page's
own query (a correlated subquery per row, one probe of the reactions' unique index),
and so does the quote of a reply (a join on the parent), which therefore always shows
the parent's current state; mentions are a column of the message.

    reactions_column(viewer_id)          the reactions of each row, for `.values()`
    reactions_of(row)                    [{emoji, count, me}] from that column
    reaction_summaries(ids, viewer_id)   the same for messages at hand, one query
    quote_columns()                      the parent's columns, for `.values()`
    quote_json(row)                      the `reply_to` object of a row, or None
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr

from parley import users
from parley.models import Message, Reaction

QUOTE_LENGTH = 200

# Per row: [[emoji, count, me], ...] in order of first use. Table names are the models'
# own; the viewer is a bound parameter.
_REACTIONS_SQL = {
    "postgresql": (
        "(SELECT json_agg(json_build_array(r.emoji, r.n, r.mine) ORDER BY r.first) FROM ("
        "SELECT emoji, count(*) AS n, min(id) AS first, {mine} AS mine FROM {reaction} "
        'WHERE message_id = "{message}"."id" GROUP BY emoji) AS r)'
    ),
    "sqlite": (
        "(SELECT json_group_array(json_array(r.emoji, r.n, r.mine)) FROM ("
        "SELECT emoji, count(*) AS n, min(id) AS first, {mine} AS mine FROM {reaction} "
        'WHERE message_id = "{message}"."id" GROUP BY emoji ORDER BY first) AS r)'
    ),
}
_MINE_SQL = {"postgresql": "bool_or(user_id = %s)", "sqlite": "max(user_id = %s)"}


def reactions_column(*, viewer_id: Any = None) -> RawSQL:
    """The reactions of each message row (the outer query's `parley_message`), `me`
    from `viewer_id`'s point of view."""
    vendor = "postgresql" if connection.vendor == "postgresql" else "sqlite"
    params: tuple[Any, ...] = ()
    mine = "false" if vendor == "postgresql" else "0"
    if viewer_id is not None:
        mine, params = _MINE_SQL[vendor], (users.user_db_value(viewer_id),)
    sql = _REACTIONS_SQL[vendor].format(mine=mine, reaction=Reaction._meta.db_table, message=Message._meta.db_table)
    return RawSQL(sql, params)  # noqa: S611 - composed of constants; the viewer is a parameter


def reactions_of(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    data = row["reactions_data"]
    if data is None:  # PostgreSQL's json_agg of no rows
        return []
    if isinstance(data, str):  # SQLite's JSON is text
        data = json.loads(data)
    return [{"emoji": emoji, "count": count, "me": bool(me)} for emoji, count, me in data]


def quote_columns() -> dict[str, Any]:
    """The parent's columns a message row carries; its sender's name when the default
    DISPLAY_NAME allows it in the same query (else `with_names` fills it in)."""
    columns: dict[str, Any] = {
        "reply_sender_id": F("reply_to__sender_id"),
        "reply_content": Substr("reply_to__content", 1, QUOTE_LENGTH),
        "reply_is_deleted": F("reply_to__is_deleted"),
    }
    column = users.name_column()
    if column is not None:
        columns["reply_sender_name"] = F(f"reply_to__sender__{column}")
    return columns


def quote_json(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """`reply_to` as the API shows it: the parent now (deleted: no content)."""
    if row.get("reply_to_id") is None:
        return None
    deleted = bool(row["reply_is_deleted"])
    sender_name = row["reply_sender_name"] if row["reply_sender_id"] is not None else users.DELETED_USER_NAME
    return {
        "id": row["reply_to_id"],
        "sender_name": sender_name,
        "content": "" if deleted else (row["reply_content"] or ""),
        "deleted": deleted,
    }


def reaction_summaries(message_ids: Iterable[int], *, viewer_id: Any = None) -> dict[int, list[dict[str, Any]]]:
    """The reactions of messages at hand (a write's answer), in one query: the same
    column as a page's. Without a viewer `me` is always false (a frame is rendered once
    for every member)."""
    ids = sorted({i for i in message_ids if i is not None})
    if not ids:
        return {}
    rows = Message.objects.filter(pk__in=ids).values("id", reactions_data=reactions_column(viewer_id=viewer_id))
    return {row["id"]: reactions_of(row) for row in rows}

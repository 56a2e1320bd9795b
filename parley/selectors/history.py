"""A conversation's history page as one fixed SQL statement.

`GET /api/chat/conversations/{id}/messages/` is the read a chat client makes most. Its
page is one statement at any depth, whatever the page holds: the live messages (keyset
on the partial index `parley_msg_live_idx`), each with its sender's name, the quote of
the message it replies to as that message is now, the reader's own reactions (`me`,
read only for messages with reactions) and whether the reader blocked its sender
(`sender_blocked`). Built by hand because compiling the ORM queries for these parts,
and the two lookups after them, cost more CPU than the SQL they ran (bench/README.md,
"SPEC 10: the history page"). Table and column names come from the models; every value
is a parameter. Other message lists (the thread, the cross-conversation list) page
through querysets (parley.selectors.messages.QuerySetMessages) with the same JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from parley import users
from parley.message_parts import QUOTE_LENGTH, quote_json
from parley.models import Block, Message, Reaction
from parley.representations import MESSAGE_COLUMNS, message_row_json
from parley.selectors.messages import KeysetPage

_MESSAGE = Message._meta.db_table
_REACTION = Reaction._meta.db_table
_BLOCK = Block._meta.db_table
_SEPARATOR = "\x1f"  # between the reader's emoji in one column; never part of an emoji
_DATETIMES = ("timestamp", "read_at", "edited_at", "pinned_at")


def _select() -> str:
    """The page's columns and joins, for the configured user model and DISPLAY_NAME."""
    user_model = get_user_model()
    user_table = user_model._meta.db_table
    user_pk = user_model._meta.pk.column  # type: ignore[union-attr]
    column = users.name_column()
    name = user_model._meta.get_field(column).column if column else None  # type: ignore[union-attr]
    # Names as scalar subqueries, not joins: the one join left (the parent) is a nested
    # loop that keeps the index's order, so no plan can hash the user table and sort.
    name_of = f'(SELECT u."{name}" FROM "{user_table}" u WHERE u."{user_pk}" = {{}})'  # noqa: S608 - names from the models
    sender_name = name_of.format("m.sender_id") if name else "NULL"
    parent_name = name_of.format("p.sender_id") if name else "NULL"
    joins = f"LEFT JOIN {_MESSAGE} p ON p.id = m.reply_to_id "
    aggregate = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    separator = "chr(31)" if connection.vendor == "postgresql" else "char(31)"
    columns = ", ".join(f"m.{Message._meta.get_field(c).column}" for c in MESSAGE_COLUMNS)  # type: ignore[union-attr]
    return (
        f"SELECT {columns}, {sender_name}, "  # noqa: S608
        f"p.sender_id, substr(p.content, 1, {QUOTE_LENGTH}), p.is_deleted, {parent_name}, "
        f"CASE WHEN m.reaction_summary <> '[]' THEN (SELECT {aggregate}(r.emoji, {separator}) "
        f"FROM {_REACTION} r WHERE r.message_id = m.id AND r.user_id = %s) END, "
        f"m.sender_id IN (SELECT b.blocked_id FROM {_BLOCK} b WHERE b.blocker_id = %s) "
        f"FROM {_MESSAGE} m {joins}"
        "WHERE m.conversation_id = %s AND NOT m.is_deleted"
    )


def _aware(value: Any) -> Any:
    """SQLite's raw rows hold naive UTC datetimes (Django's converters make them aware)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class ConversationHistory:
    """The live messages of one conversation, as `viewer_id` (a member) reads them."""

    conversation_id: int
    viewer_id: Any

    def count(self) -> int:
        sql = f"SELECT COUNT(*) FROM {_MESSAGE} WHERE conversation_id = %s AND NOT is_deleted"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.conversation_id])
            return int(cursor.fetchone()[0])

    def keyset_page(self, *, before: int | None, after: int | None, limit: int) -> KeysetPage:
        if after is not None:
            rows = self._rows("AND m.id > %s ORDER BY m.id LIMIT %s", [after, limit + 1])
            return KeysetPage(self._json(rows[:limit]), has_older=after > 0, has_newer=len(rows) > limit)
        if before is not None:
            rows = self._rows("AND m.id < %s ORDER BY m.id DESC LIMIT %s", [before, limit + 1])
        else:
            rows = self._rows("ORDER BY m.id DESC LIMIT %s", [limit + 1])
        page = rows[:limit]
        page.reverse()
        return KeysetPage(self._json(page), has_older=len(rows) > limit, has_newer=before is not None)

    def offset_page(self, *, offset: int, limit: int) -> list[dict[str, Any]]:
        return self._json(self._rows("ORDER BY m.id LIMIT %s OFFSET %s", [limit, offset]))

    def _rows(self, tail: str, params: list[Any]) -> list[tuple[Any, ...]]:
        viewer = users.user_db_value(self.viewer_id)
        with connection.cursor() as cursor:
            cursor.execute(f"{_select()} {tail}", [viewer, viewer, self.conversation_id, *params])
            return list(cursor.fetchall())

    def _json(self, rows: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
        width = len(MESSAGE_COLUMNS)
        to_python = None if users.pk_is_integer() else get_user_model()._meta.pk.to_python  # type: ignore[union-attr]
        names = _host_names(rows, width=width, to_python=to_python)
        results = []
        for row in rows:
            message = dict(zip(MESSAGE_COLUMNS, row[:width], strict=True))
            sender_name, parent_sender, parent_text, parent_deleted, parent_name, mine, blocked = row[width:]
            for key in _DATETIMES:
                message[key] = _aware(message[key])
            if to_python is not None:
                message["sender_id"] = None if message["sender_id"] is None else to_python(message["sender_id"])
                parent_sender = None if parent_sender is None else to_python(parent_sender)
            if names is not None:
                sender_name, parent_name = names.get(message["sender_id"]), names.get(parent_sender)
            message["sender_name"] = sender_name
            quote = None
            if message["reply_to_id"] is not None:
                quote = quote_json(message["reply_to_id"], parent_sender, parent_text, parent_deleted, parent_name)
            own = frozenset(mine.split(_SEPARATOR)) if mine else frozenset()
            data = message_row_json(message, mine=own, quote=quote)
            if blocked:
                data["sender_blocked"] = True
            results.append(data)
        return results


def _host_names(
    rows: Sequence[tuple[Any, ...]], *, width: int, to_python: Callable[[Any], Any] | None
) -> dict[Any, str] | None:
    """With a host's DISPLAY_NAME callable (no name column to select): the names of the
    page's senders and of its parents' senders, in one query. None otherwise."""
    if users.name_column() is not None:
        return None
    senders = {row[2] for row in rows} | {row[width + 1] for row in rows}
    return users.display_names(to_python(s) if to_python and s is not None else s for s in senders)

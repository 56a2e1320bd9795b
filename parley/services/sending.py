"""Storing a new message: the one write on the hot path, in SQL.

Every other change of a conversation goes through `sequencing.conversation_write` and
the ORM. Sending runs hundreds of times a second, and there the ORM's query building
was most of a send's CPU (bench S1's profile: 7 querysets compiled per send), and its
nine statements were nine round trips. Here:

1. `SELECT ... FOR UPDATE` takes the conversation's row lock, so concurrent sends
   queue and `seq` stays gapless.
2. One statement, which starts after the lock and so sees a removal that committed
   while we waited: is the sender a member (parley.access.MEMBER_SQL, the same rule as
   every other path), is this `client_id` new, and, in a direct conversation, has
   neither side blocked the other (parley.services.blocks)? Only then
   number the event (`last_seq + 1`), take the message id from its sequence, insert
   the message, its event and the event's outbox row (notifications, drained by
   `manage.py parley_worker`), and count it unread for everyone else
   (data-modifying CTEs). A refusal changes nothing, so there is nothing to undo.

On PostgreSQL, outside a caller's transaction, BEGIN, both statements and COMMIT go
out together in psycopg's pipeline mode: one network round trip per send. SQLite has
no data-modifying CTEs; there the same steps are six plain statements in one
transaction, which cost no round trip in-process.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from parley.access import MEMBER_SQL
from parley.attachments import StoredAttachment
from parley.models import Block, Conversation, Event, Membership
from parley.users import user_db_value

# A block between the sender and the other member of a direct conversation, either way
# (parley.services.blocks): read after the lock, so a block committed while this send
# waited for it is seen.
_BLOCKED_SQL = f"""EXISTS (
    SELECT 1 FROM {Conversation._meta.db_table} c
    JOIN {Membership._meta.db_table} other ON other.conversation_id = c.id AND other.user_id <> %(user)s
    JOIN {Block._meta.db_table} b
        ON (b.blocker_id = %(user)s AND b.blocked_id = other.user_id)
        OR (b.blocked_id = %(user)s AND b.blocker_id = other.user_id)
    WHERE c.id = %(conversation)s AND c.kind = 'direct'
)"""  # noqa: S608 - the models' own table names

# The member/duplicate/block gate: evaluated after the lock, for both backends.
# Membership is parley.access's rule, in its SQL form.
_GATE = f"""
    SELECT
        {MEMBER_SQL},
        %(client_id)s IS NOT NULL AND EXISTS (
            SELECT 1 FROM parley_message
            WHERE conversation_id = %(conversation)s AND sender_id = %(sender)s AND client_id = %(client_id)s
        ),
        {_BLOCKED_SQL}
"""  # noqa: S608 - composed of constants; every value is a bound parameter

_MESSAGE_COLUMNS = """
    conversation_id, sender_id, content, attachment, attachment_name, attachment_size, attachment_type,
    timestamp, seq, client_id, is_read, read_at, is_deleted, deleted_at, edited_at, reply_to_id, mentions, pinned_at,
    reaction_summary
"""
_MESSAGE_VALUES = """
    %(conversation)s, %(sender)s, %(content)s, %(attachment)s, %(attachment_name)s, %(attachment_size)s,
    %(attachment_type)s, %(now)s, %(seq)s, %(client_id)s, false, NULL, false, NULL, NULL, %(reply_to)s, '[]', NULL,
    '[]'
"""
_EVENT_COLUMNS = "conversation_id, seq, type, message_id, actor_id, data, created_at"
_UNREAD = """
    UPDATE parley_membership
    SET unread_count = unread_count + CASE WHEN user_id = %(sender)s THEN 0 ELSE 1 END, hidden = false
    WHERE conversation_id = %(conversation)s
"""

# The notification outbox (parley.services.outbox): one row per event, in its transaction.
_OUTBOX = "INSERT INTO parley_outbox (event_id, created_at)"

_PG_LOCK = "SELECT 1 FROM parley_conversation WHERE id = %(conversation)s FOR UPDATE"
# After the lock: the gate, then every write, numbered from the conversation row.
_PG_WRITE = f"""
    WITH gate (is_member, is_duplicate, is_blocked) AS ({_GATE}),
    conversation AS (
        UPDATE parley_conversation
        SET last_seq = last_seq + 1, updated_at = %(now)s,
            last_message_id = nextval(pg_get_serial_sequence('parley_message', 'id'))
        WHERE id = %(conversation)s AND (SELECT is_member AND NOT is_duplicate AND NOT is_blocked FROM gate)
        RETURNING last_seq, last_message_id
    ),
    message AS (
        INSERT INTO parley_message (id, {_MESSAGE_COLUMNS})
        SELECT last_message_id, {_MESSAGE_VALUES.replace("%(seq)s", "last_seq")} FROM conversation
        RETURNING id, seq
    ),
    event AS (
        INSERT INTO parley_event ({_EVENT_COLUMNS})
        SELECT %(conversation)s, seq, %(type)s, id, %(sender)s, '{{}}', %(now)s FROM message
        RETURNING id
    ),
    outbox AS ({_OUTBOX} SELECT id, %(now)s FROM event),
    unread AS ({_UNREAD} AND EXISTS (SELECT 1 FROM message))
    SELECT gate.is_member, gate.is_duplicate, gate.is_blocked, message.id, message.seq
    FROM gate LEFT JOIN message ON true
"""  # noqa: S608 - composed of this module's constants; every value is a bound parameter

_SQLITE_LOCK = """
    UPDATE parley_conversation SET last_seq = last_seq + 1, updated_at = %(now)s
    WHERE id = %(conversation)s
    RETURNING last_seq
"""
_SQLITE_INSERT_MESSAGE = f"INSERT INTO parley_message ({_MESSAGE_COLUMNS}) VALUES ({_MESSAGE_VALUES}) RETURNING id"  # noqa: S608
_SQLITE_INSERT_EVENT = f"""
    INSERT INTO parley_event ({_EVENT_COLUMNS})
    VALUES (%(conversation)s, %(seq)s, %(type)s, %(id)s, %(sender)s, '{{}}', %(now)s)
    RETURNING id
"""  # noqa: S608
_SQLITE_INSERT_OUTBOX = f"{_OUTBOX} VALUES (%(event)s, %(now)s)"
_SQLITE_LAST_MESSAGE = "UPDATE parley_conversation SET last_message_id = %(id)s WHERE id = %(conversation)s"


class Refused(Exception):
    """The gate said no (on SQLite, raised inside the transaction, which rolls back)."""

    def __init__(
        self, *, conversation_exists: bool, is_member: bool, is_duplicate: bool, is_blocked: bool = False
    ) -> None:
        self.conversation_exists = conversation_exists
        self.is_member = is_member
        self.is_duplicate = is_duplicate
        self.is_blocked = is_blocked


@dataclass(frozen=True)
class Inserted:
    id: int
    seq: int


def message_rows_insert(
    *,
    conversation_id: int,
    sender_id: Any,
    content: str,
    now: datetime,
    client_id: str | None,
    stored: StoredAttachment | None,
    reply_to: int | None = None,
) -> Inserted:
    """Insert a message, its `message.created` event and the unread counts, committed
    unless the caller has a transaction open; raises `Refused` when the sender is not
    a member, the conversation does not exist, or `client_id` was already used."""
    params: dict[str, Any] = {
        "conversation": conversation_id,
        "sender": user_db_value(sender_id),
        "user": user_db_value(sender_id),  # parley.access.MEMBER_SQL's name for the member
        "content": content,
        "attachment": stored.path if stored else "",
        "attachment_name": stored.name if stored else "",
        "attachment_size": stored.size if stored else None,
        "attachment_type": stored.content_type if stored else "",
        "now": connection.ops.adapt_datetimefield_value(now),
        "client_id": client_id,
        "reply_to": reply_to,
        "type": Event.Type.MESSAGE_CREATED.value,
    }
    if connection.vendor == "postgresql":
        return _insert_postgresql(params)
    with transaction.atomic(), connection.cursor() as cursor:
        return _insert_portable(cursor, params)


def _insert_postgresql(params: dict[str, Any]) -> Inserted:
    """Lock, then write; in the caller's transaction if one is open, else in a
    transaction of its own whose four statements go out in one round trip."""
    if connection.in_atomic_block:  # a savepoint, so that a failure leaves the caller's transaction usable
        with transaction.atomic(), connection.cursor() as lock, connection.cursor() as write:
            lock.execute(_PG_LOCK, params)
            write.execute(_PG_WRITE, params)
            return _outcome(lock.fetchone() is not None, write.fetchone())
    from psycopg import pq

    connection.ensure_connection()
    pg = connection.connection
    try:
        # Errors surface when the pipeline syncs, outside Django's cursor wrappers:
        # translate them as the wrappers do (an IntegrityError is a 409, not a 500).
        with connection.wrap_database_errors, connection.cursor() as lock, connection.cursor() as write:
            with pg.pipeline(), connection.cursor() as control:
                control.execute("BEGIN")
                lock.execute(_PG_LOCK, params)
                write.execute(_PG_WRITE, params)
                control.execute("COMMIT")
            return _outcome(lock.fetchone() is not None, write.fetchone())
    except BaseException:
        # A failure inside the pipeline can leave the BEGIN open; on a dead connection
        # the rollback fails too, and the first error is the one worth raising.
        with contextlib.suppress(Exception):
            if pg.info.transaction_status != pq.TransactionStatus.IDLE:
                pg.rollback()
        raise


def _outcome(conversation_exists: bool, row: tuple[Any, ...]) -> Inserted:
    is_member, is_duplicate, is_blocked, message_id, seq = row
    if message_id is None:
        raise Refused(
            conversation_exists=conversation_exists,
            is_member=is_member,
            is_duplicate=is_duplicate,
            is_blocked=is_blocked,
        )
    return Inserted(id=message_id, seq=seq)


def _insert_portable(cursor: Any, params: dict[str, Any]) -> Inserted:
    cursor.execute(_SQLITE_LOCK, params)
    locked = cursor.fetchone()
    if locked is None:
        raise Refused(conversation_exists=False, is_member=False, is_duplicate=False)
    params["seq"] = locked[0]
    cursor.execute(_GATE, params)
    is_member, is_duplicate, is_blocked = cursor.fetchone()
    if not is_member or is_duplicate or is_blocked:
        raise Refused(
            conversation_exists=True,
            is_member=bool(is_member),
            is_duplicate=bool(is_duplicate),
            is_blocked=bool(is_blocked),
        )
    cursor.execute(_SQLITE_INSERT_MESSAGE, params)
    params["id"] = cursor.fetchone()[0]
    cursor.execute(_SQLITE_INSERT_EVENT, params)
    params["event"] = cursor.fetchone()[0]
    cursor.execute(_SQLITE_INSERT_OUTBOX, params)
    cursor.execute(_SQLITE_LAST_MESSAGE, params)
    cursor.execute(_UNREAD, params)
    return Inserted(id=params["id"], seq=params["seq"])

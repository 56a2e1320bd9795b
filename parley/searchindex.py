"""The search index's structures, one per database vendor (SPEC 10; docs/api.md#search).

    PostgreSQL  an expression GIN index over live messages: their words
                (`to_tsvector('simple', content)`) plus one lexeme naming the
                conversation (`'c <id>'`: the space keeps any word of any text from
                producing it), so a search limited to the caller's conversations
                intersects posting lists inside the index instead of reading every
                match on the server. parley.selectors.search repeats DOCUMENT_SQL.
    SQLite      an FTS5 table (rowid = message id; `content`, and `conv` =
                'c<conversation id>'), kept in step by triggers, in the same
                transaction, with every insert, edit, soft delete, erasure and hard
                delete, whichever path makes it (REST, socket, admin, retention).

SQLite drops a table's triggers when Django rebuilds the table (an AddField with a
default does that), so `sqlite_triggers_ensure` runs after every `migrate`
(parley.signals) and puts back any that a later migration removed.
"""

from __future__ import annotations

from typing import Any

PG_INDEX = "parley_msg_search_idx"
# The indexed expression, over the message table's own columns.
DOCUMENT_SQL = (
    "(to_tsvector('simple'::regconfig, {t}.content) || array_to_tsvector(ARRAY['c ' || {t}.conversation_id::text]))"
)
PG_CREATE = (
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON parley_message USING gin "
    f"(({DOCUMENT_SQL.format(t='parley_message')})) WHERE NOT is_deleted"
)
PG_DROP = f"DROP INDEX IF EXISTS {PG_INDEX}"

FTS_TABLE = "parley_message_fts"  # written out in the statements below
SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS parley_message_fts USING fts5("
    "content, conv, tokenize = 'unicode61 remove_diacritics 0')"
)
# Only live messages with words are indexed.
SQLITE_BACKFILL = (
    "INSERT INTO parley_message_fts(rowid, content, conv) "
    "SELECT id, content, 'c' || conversation_id FROM parley_message WHERE is_deleted = 0 AND content <> ''"
)
SQLITE_TRIGGERS = {
    "parley_message_fts_insert": (
        "AFTER INSERT ON parley_message WHEN new.is_deleted = 0 AND new.content <> '' BEGIN "
        "INSERT INTO parley_message_fts(rowid, content, conv) "
        "VALUES (new.id, new.content, 'c' || new.conversation_id); "
        "END"
    ),
    "parley_message_fts_update": (
        "AFTER UPDATE OF content, is_deleted, conversation_id ON parley_message BEGIN "
        "DELETE FROM parley_message_fts WHERE rowid = old.id; "
        "INSERT INTO parley_message_fts(rowid, content, conv) "
        "SELECT new.id, new.content, 'c' || new.conversation_id WHERE new.is_deleted = 0 AND new.content <> ''; "
        "END"
    ),
    "parley_message_fts_delete": (
        "AFTER DELETE ON parley_message BEGIN DELETE FROM parley_message_fts WHERE rowid = old.id; END"
    ),
}


def trigger_sql(name: str) -> str:
    return f"CREATE TRIGGER IF NOT EXISTS {name} {SQLITE_TRIGGERS[name]}"


def sqlite_forward() -> list[str]:
    return [SQLITE_TABLE, SQLITE_BACKFILL, *(trigger_sql(name) for name in SQLITE_TRIGGERS)]


def sqlite_backward() -> list[str]:
    return [*(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS), f"DROP TABLE IF EXISTS {FTS_TABLE}"]


def sqlite_triggers_ensure(connection: Any) -> list[str]:
    """Put back the triggers a table rebuild dropped, and resync the index if any were
    missing (writes made without them are not in it). Returns the names restored."""
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {row[0] for row in cursor.fetchall()}
        if FTS_TABLE not in present:
            return []  # the search migration has not run yet
        missing = [name for name in SQLITE_TRIGGERS if name not in present]
        if missing:
            cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608 - constant names
            cursor.execute(SQLITE_BACKFILL)
            for name in missing:
                cursor.execute(trigger_sql(name))
    return missing

"""Search over the caller's live messages, ranked, keyset-paginated (docs/api.md#search).

Three queries a page whatever the depth: the caller's conversations, the ranked ids,
their message JSON (parley.selectors.messages.message_json_by_id).

    PostgreSQL  the GIN index of parley.searchindex: `words && scope`, where scope is
                an OR of the caller's conversation lexemes, so the index intersects
                the terms' posting lists with the caller's conversations and the cost
                follows the caller's messages, not the server's. Rank: `ts_rank`.
    SQLite      the FTS5 table: `{content} : (terms) AND {conv} : (scope)`. Rank:
                `-bm25`, whose statistics are the whole table's.

Each hit must also pass the membership rule (parley.access's table) in the same
statement, so the scope is an accelerator, never the permission. Ranks are a
function of the message and the query; the cursor is the last hit's (rank, id) and the
next page holds the hits strictly after it in (rank desc, id desc) order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from parley import searchindex
from parley.common.errors import NotFound
from parley.models import Membership, Message
from parley.searchtext import fts5_match, snippet
from parley.selectors.messages import message_json_by_id

# Beyond this many conversations, the scope is left out of the index lookup (the
# membership test still applies): the lookup then reads every match on the server.
MAX_SCOPE = 500

MEMBER_EXISTS = (
    f"EXISTS (SELECT 1 FROM {Membership._meta.db_table} mb "  # noqa: S608 - model table names
    "WHERE mb.conversation_id = m.conversation_id AND mb.user_id = %(user)s)"
)


@dataclass(frozen=True)
class SearchCursor:
    rank: float
    id: int


@dataclass(frozen=True)
class SearchHit:
    message: dict[str, Any]
    conversation: int
    snippet: str


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    next: SearchCursor | None


def _postgresql_sql(*, scoped: bool, paged: bool) -> str:
    document = searchindex.DOCUMENT_SQL.format(t="m")
    words = "plainto_tsquery('simple'::regconfig, %(text)s)"
    lookup = f"({words} && %(scope)s::tsquery)" if scoped else words
    return (
        "SELECT * FROM ("  # noqa: S608 - constant SQL, every value a parameter
        "SELECT m.id, m.conversation_id, m.content, "
        f"ts_rank(to_tsvector('simple'::regconfig, m.content), {words})::float8 AS rank "
        f"FROM {Message._meta.db_table} m "
        f"WHERE NOT m.is_deleted AND {document} @@ {lookup} "
        f"AND m.conversation_id = ANY(%(conversations)s) AND {MEMBER_EXISTS}"
        ") hit"
        + (" WHERE (hit.rank, hit.id) < (%(rank)s, %(id)s)" if paged else "")
        + " ORDER BY hit.rank DESC, hit.id DESC LIMIT %(limit)s"
    )


def _sqlite_sql(*, paged: bool) -> str:
    fts = searchindex.FTS_TABLE
    return (
        "SELECT * FROM ("  # noqa: S608 - constant SQL, every value a parameter
        f"SELECT m.id, m.conversation_id, m.content, -bm25({fts}, 1.0, 0.0) AS rank "
        f"FROM {fts} JOIN {Message._meta.db_table} m ON m.id = {fts}.rowid "
        f"WHERE {fts} MATCH %(match)s AND m.is_deleted = 0 AND {MEMBER_EXISTS}"
        ") hit"
        + (" WHERE (hit.rank, hit.id) < (%(rank)s, %(id)s)" if paged else "")
        + " ORDER BY hit.rank DESC, hit.id DESC LIMIT %(limit)s"
    )


def search_scope(*, user_id: Any, conversation_id: int | None) -> list[int]:
    """The conversations searched: the caller's, or the one asked for (404 if not theirs)."""
    memberships = Membership.objects.filter(user_id=user_id)
    if conversation_id is not None:
        memberships = memberships.filter(conversation_id=conversation_id)
    scope = list(memberships.order_by("conversation_id").values_list("conversation_id", flat=True))
    if conversation_id is not None and not scope:
        raise NotFound("Conversation not found.")
    return scope


def message_search(
    *, user_id: Any, terms: list[str], conversation_id: int | None, after: SearchCursor | None, limit: int
) -> SearchPage:
    """Up to `limit` live messages of the caller's conversations holding every term,
    best first, after the cursor. Ranks are float8 on both databases, so the cursor's
    decimal text round-trips exactly (a float4 printed short would not)."""
    scope = search_scope(user_id=user_id, conversation_id=conversation_id)
    if not scope:
        return SearchPage([], None)
    params: dict[str, Any] = {"user": user_id, "limit": limit + 1}
    if after is not None:
        params.update(rank=after.rank, id=after.id)
    scoped = len(scope) <= MAX_SCOPE
    if connection.vendor == "postgresql":
        params.update(text=" ".join(terms), conversations=scope)
        if scoped:
            params["scope"] = " | ".join(f"'c {cid}'" for cid in scope)
        sql = _postgresql_sql(scoped=scoped, paged=after is not None)
    else:
        match = fts5_match(terms)
        if scoped:
            match += " AND {conv} : (" + " OR ".join(f'"c{cid}"' for cid in scope) + ")"
        params["match"] = match
        sql = _sqlite_sql(paged=after is not None)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    messages = message_json_by_id([row[0] for row in rows])
    hits = [
        SearchHit(message=messages[mid], conversation=cid, snippet=snippet(content, terms))
        for mid, cid, content, _ in rows
        if mid in messages
    ]
    last = rows[-1] if rows else None
    return SearchPage(hits, SearchCursor(rank=float(last[3]), id=last[0]) if more and last else None)

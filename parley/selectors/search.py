"""Search over the caller's live messages, ranked, keyset-paginated (docs/api.md#search).

Three queries a page whatever the depth: the caller's conversations, the ranked hits,
their message JSON (parley.selectors.messages.message_json_by_id).

    PostgreSQL  the GIN index of parley.searchindex: `words && scope`, where scope is
                an OR of the caller's conversation lexemes, so the index intersects
                the terms' posting lists with the caller's conversations and the cost
                follows the caller's messages, not the server's. Rank: `ts_rank`.
    SQLite      the FTS5 table: `{content} : (terms) AND {conv} : (scope)`. Rank:
                `-bm25`, whose statistics are the whole table's.

Each hit must also pass the membership rule (a membership row of the caller, the
rule of parley.access) in the same statement, so the scope is an accelerator, never
the permission.

Order: the newest RANK_WINDOW matches by rank, then every older match newest first
(rank 0). Ranking costs a parse of each ranked message on PostgreSQL (bench: about
8 us a message on a busy machine), so a word in most of the caller's messages would
otherwise cost tens of milliseconds; the window bounds it. The window's edge (the id
below which nothing is ranked) is fixed by the first page and carried in the cursor,
with the last hit's (rank, id): every later page continues the same order, strictly
after that hit, so no page repeats or skips one even while messages arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from parley import searchindex
from parley.common.errors import NotFound
from parley.models import Membership
from parley.searchtext import fts5_match, snippet
from parley.selectors.messages import message_json_by_id

# Beyond this many conversations, the scope is left out of the index lookup (the
# membership test still applies): the lookup then reads every match on the server.
MAX_SCOPE = 500
RANK_WINDOW = 500

# The membership rule over the caller's rows (parley.access.member_rows), evaluated once.
MEMBER_CONVERSATIONS = f"SELECT mb.conversation_id FROM {Membership._meta.db_table} mb WHERE mb.user_id = %(user)s"  # noqa: S608


@dataclass(frozen=True)
class SearchCursor:
    rank: float
    id: int
    edge: int  # messages with a greater id are ranked; the others have rank 0


@dataclass(frozen=True)
class SearchHit:
    message: dict[str, Any]
    conversation: int
    snippet: str


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    next: SearchCursor | None


def _hits_sql(*, scoped: bool) -> str:
    """The matches, as `hit(id, conversation_id, content, score)`; score is computed
    lazily on PostgreSQL (below), by FTS5 itself on SQLite."""
    if connection.vendor == "postgresql":
        document = searchindex.DOCUMENT_SQL.format(t="m")
        words = "plainto_tsquery('simple'::regconfig, %(text)s)"
        lookup = f"({words} && %(scope)s::tsquery)" if scoped else words
        return (
            "SELECT m.id, m.conversation_id, m.content, 0.0::float8 AS score FROM parley_message m "  # noqa: S608
            f"WHERE NOT m.is_deleted AND {document} @@ {lookup} "
            # `+ 0`: no b-tree path on conversation_id, which the planner prefers when
            # the caller's conversations hold much of the table and then runs
            # to_tsvector on every one of their messages (bench: 85 ms instead of 2).
            f"AND m.conversation_id + 0 = ANY(ARRAY({MEMBER_CONVERSATIONS}))"
        )
    fts = searchindex.FTS_TABLE
    return (
        f"SELECT m.id, m.conversation_id, m.content, -bm25({fts}, 1.0, 0.0) AS score "  # noqa: S608
        f"FROM {fts} JOIN parley_message m ON m.id = {fts}.rowid "
        f"WHERE {fts} MATCH %(match)s AND m.is_deleted = 0 AND m.conversation_id IN ({MEMBER_CONVERSATIONS})"
    )


def search_sql(*, scoped: bool, paged: bool) -> str:
    if connection.vendor == "postgresql":
        rank = "ts_rank(to_tsvector('simple'::regconfig, hit.content), plainto_tsquery('simple'::regconfig, %(text)s))"
        rank = f"({rank})::float8"
    else:
        rank = "hit.score"
    edge = (
        "SELECT %(edge)s AS id"
        if paged
        else "SELECT COALESCE(MAX(id), 0) AS id FROM (SELECT id FROM hit ORDER BY id DESC LIMIT 1 OFFSET %(window)s) e"
    )
    # `edge` is read as a scalar subquery, so it is computed once (joined, the planner
    # may recompute it for every hit).
    return (
        f"WITH hit AS MATERIALIZED ({_hits_sql(scoped=scoped)}), edge AS MATERIALIZED ({edge}) "  # noqa: S608
        "SELECT * FROM ("
        "SELECT hit.id, hit.conversation_id, hit.content, "
        f"CASE WHEN hit.id > (SELECT id FROM edge) THEN {rank} ELSE 0.0 END AS rank, "
        "(SELECT id FROM edge) AS edge FROM hit) ranked"
        + (" WHERE (ranked.rank, ranked.id) < (%(rank)s, %(id)s)" if paged else "")
        + " ORDER BY ranked.rank DESC, ranked.id DESC LIMIT %(limit)s"
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


def search_params(*, user_id: Any, terms: list[str], scope: list[int], scoped: bool) -> dict[str, Any]:
    # The column's own form of the id (a UUID key is 32 hex characters on SQLite).
    user = Membership._meta.get_field("user").get_db_prep_value(user_id, connection)
    params: dict[str, Any] = {"user": user, "window": RANK_WINDOW}
    if connection.vendor == "postgresql":
        params["text"] = " ".join(terms)
        if scoped:
            params["scope"] = " | ".join(f"'c {cid}'" for cid in scope)
    else:
        match = fts5_match(terms)
        if scoped:
            match += " AND {conv} : (" + " OR ".join(f'"c{cid}"' for cid in scope) + ")"
        params["match"] = match
    return params


def message_search(
    *, user_id: Any, terms: list[str], conversation_id: int | None, after: SearchCursor | None, limit: int
) -> SearchPage:
    """Up to `limit` live messages of the caller's conversations holding every term,
    in search order, after the cursor. Ranks are float8 on both databases, so the
    cursor's decimal text round-trips exactly (a float4 printed short would not)."""
    scope = search_scope(user_id=user_id, conversation_id=conversation_id)
    if not scope:
        return SearchPage([], None)
    scoped = len(scope) <= MAX_SCOPE
    params = search_params(user_id=user_id, terms=terms, scope=scope, scoped=scoped)
    params["limit"] = limit + 1
    if after is not None:
        params.update(rank=after.rank, id=after.id, edge=after.edge)
    with connection.cursor() as cursor:
        cursor.execute(search_sql(scoped=scoped, paged=after is not None), params)
        rows = cursor.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    messages = message_json_by_id([row[0] for row in rows])
    hits = [
        SearchHit(message=messages[mid], conversation=cid, snippet=snippet(content, terms))
        for mid, cid, content, _, _ in rows
        if mid in messages
    ]
    if not (more and rows):
        return SearchPage(hits, None)
    last = rows[-1]
    return SearchPage(hits, SearchCursor(rank=float(last[3]), id=last[0], edge=int(last[4])))

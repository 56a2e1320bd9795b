"""SPEC 10 search: `GET /api/chat/search/` on both databases (docs/api.md#search).

Isolation (other people's conversations, deleted and erased messages, a conversation
left), the index in step with edits and deletes, ranking and keyset pages, escaped
snippets, refused queries, a constant query count per page; PostgreSQL-only checks
skip on SQLite, SQLite-only ones on PostgreSQL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from parley import searchindex
from parley.models import Event, Message
from parley.services.users import user_messages_erase
from tests import hosts
from tests.conftest import body
from tests.helpers import bulk_messages, group, msg_url, send, start

SEARCH = "/api/chat/search/"
pg_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's GIN index only")
sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's FTS5 triggers only")


def search(client, q: str, **params: Any) -> dict[str, Any]:
    query = "&".join([f"q={quote(q)}", *(f"{k}={quote(str(v))}" for k, v in params.items())])
    response = client.get(f"{SEARCH}?{query}")
    assert response.status_code == 200, response.text
    return body(response)


def follow(client, url: str) -> dict[str, Any]:
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200, response.text
    return body(response)


def found(data: dict[str, Any]) -> list[str]:
    return [hit["message"]["content"] for hit in data["results"]]


def test_a_hit_carries_the_message_its_conversation_and_a_marked_snippet(alice, bob, api, direct):
    sent = send(api(alice), direct["id"], "Lunch at the Harbour Café on Friday?")
    send(api(bob), direct["id"], "no match here")

    data = search(api(bob), "harbour friday")

    assert data["next"] is None
    assert len(data["results"]) == 1
    hit = data["results"][0]
    assert hit["conversation"] == direct["id"]
    assert hit["message"] == body(api(bob).get(msg_url(sent["id"])))
    assert hit["snippet"] == "Lunch at the <mark>Harbour</mark> Café on <mark>Friday</mark>?"


def test_every_word_must_occur_and_case_does_not_matter(alice, api, direct):
    send(api(alice), direct["id"], "apples and pears")
    send(api(alice), direct["id"], "apples only")
    assert found(search(api(alice), "APPLES pears")) == ["apples and pears"]
    assert sorted(found(search(api(alice), "apples"))) == ["apples and pears", "apples only"]
    assert found(search(api(alice), "bananas")) == []


def test_never_a_message_of_a_conversation_the_caller_is_not_in(alice, bob, carol, api, direct):
    foreign = start(api(bob), carol)
    send(api(carol), foreign["id"], "zebracanary in bob and carol's chat")
    send(api(alice), direct["id"], "zebracanary for alice")
    assert found(search(api(alice), "zebracanary")) == ["zebracanary for alice"]
    assert len(search(api(bob), "zebracanary")["results"]) == 2
    # Not even when asked for that conversation by id: 404, as for a missing one.
    for conversation in (foreign["id"], 999_999):
        response = api(alice).get(f"{SEARCH}?q=zebracanary&conversation={conversation}")
        assert response.status_code == 404, response.text
        assert body(response)["code"] == "not_found"
        assert "zebracanary" not in response.text


def test_never_a_deleted_or_erased_message(alice, bob, api, direct):
    gone = send(api(alice), direct["id"], "deletedcanary")
    erased = send(api(bob), direct["id"], "erasedcanary")
    assert api(alice).post(msg_url(gone["id"], "delete_message")).status_code == 200
    assert user_messages_erase(user_id=bob.pk) == 1
    assert Message.objects.get(pk=erased["id"]).content == ""
    for client in (api(alice), api(bob)):
        assert search(client, "deletedcanary")["results"] == []
        assert search(client, "erasedcanary")["results"] == []


def test_a_member_who_left_no_longer_finds_the_group(alice, bob, carol, api):
    team = group(api(alice), [bob, carol])
    send(api(alice), team["id"], "leavercanary plans")
    assert found(search(api(carol), "leavercanary")) == ["leavercanary plans"]
    assert api(carol).post(f"/api/chat/conversations/{team['id']}/leave/").status_code == 204
    assert search(api(carol), "leavercanary")["results"] == []


def test_a_new_member_finds_the_history_from_before_they_joined(alice, bob, carol, api):
    """Parley shows a new group member the whole history (add_participants), so search does too."""
    team = group(api(alice), [bob])
    send(api(alice), team["id"], "earlycanary before carol")
    response = api(alice).post(
        f"/api/chat/conversations/{team['id']}/add_participants/", json={"participants": [hosts.uid(carol)]}
    )
    assert response.status_code == 200, response.text
    assert found(search(api(carol), "earlycanary")) == ["earlycanary before carol"]


def test_the_index_follows_edits_and_deletes(alice, api, direct):
    sent = send(api(alice), direct["id"], "original wording")
    assert found(search(api(alice), "original")) == ["original wording"]

    response = api(alice).post(msg_url(sent["id"], "edit_message"), json={"content": "revised wording"})
    assert response.status_code == 200, response.text
    assert search(api(alice), "original")["results"] == []
    assert found(search(api(alice), "revised")) == ["revised wording"]

    assert api(alice).post(msg_url(sent["id"], "delete_message")).status_code == 200
    assert search(api(alice), "wording")["results"] == []


def test_the_index_follows_a_hard_delete(alice, api, direct):
    sent = send(api(alice), direct["id"], "retentioncanary")
    Message.objects.filter(pk=sent["id"]).delete()  # as retention deletes: no service involved
    assert search(api(alice), "retentioncanary")["results"] == []


def test_one_conversation_only(alice, bob, carol, api, direct):
    team = group(api(alice), [bob, carol])
    send(api(alice), direct["id"], "scoped in direct")
    send(api(alice), team["id"], "scoped in team")
    data = search(api(alice), "scoped", conversation=team["id"])
    assert found(data) == ["scoped in team"]
    assert {hit["conversation"] for hit in data["results"]} == {team["id"]}


def test_better_matches_first_then_newest(alice, api, direct):
    once = send(api(alice), direct["id"], "kiwi " + "filler " * 30)
    twice = send(api(alice), direct["id"], "kiwi kiwi")
    tie_old = send(api(alice), direct["id"], "kiwi " + "filler " * 30)
    ids = [hit["message"]["id"] for hit in search(api(alice), "kiwi")["results"]]
    assert ids[0] == twice["id"]
    assert ids[1:] == [tie_old["id"], once["id"]]  # equal ranks: the newer first


def test_keyset_pages_cover_every_hit_once_in_rank_order(alice, api, direct):
    for i in range(7):
        send(api(alice), direct["id"], ("mango " * (1 + i % 3)) + f"number {i}")
    everything = search(api(alice), "mango", limit=50)["results"]
    assert len(everything) == 7

    pages, data = [], search(api(alice), "mango", limit=3)
    pages.append(data["results"])
    while data["next"]:
        assert "cursor=" in data["next"]
        data = follow(api(alice), data["next"])
        pages.append(data["results"])
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [h["message"]["id"] for p in pages for h in p] == [h["message"]["id"] for h in everything]


def test_beyond_the_rank_window_older_matches_come_newest_first(alice, api, direct, monkeypatch):
    from parley.selectors import search as selector

    monkeypatch.setattr(selector, "RANK_WINDOW", 3)
    sent = [send(api(alice), direct["id"], text)["id"] for text in ("fig fig", "fig", "fig fig", "fig", "fig fig")]
    ids = [hit["message"]["id"] for hit in search(api(alice), "fig", limit=50)["results"]]
    # The newest three by rank (two "fig fig" first), then the two older, newest first.
    assert ids == [sent[4], sent[2], sent[3], sent[1], sent[0]]

    # The window is fixed by the first page: a message arriving meanwhile does not
    # shift the later pages (it would come first on a new search).
    first = search(api(alice), "fig", limit=2)
    send(api(alice), direct["id"], "fig fig fig")
    rest = follow(api(alice), first["next"])
    rest_ids = [hit["message"]["id"] for hit in rest["results"]]
    while rest["next"]:
        rest = follow(api(alice), rest["next"])
        rest_ids += [hit["message"]["id"] for hit in rest["results"]]
    assert [hit["message"]["id"] for hit in first["results"]] + rest_ids == ids


def test_query_count_is_the_same_for_any_page(alice, bob, carol, api, direct):
    team = group(api(alice), [bob, carol])
    bulk_messages(direct["id"], alice, 30, prefix="papaya ")
    bulk_messages(team["id"], bob, 30, prefix="papaya ")
    client = api(alice)
    search(client, "papaya", limit=1)  # warm the token and user caches alike

    counts = []
    for limit in (1, 10, 50):
        with CaptureQueriesContext(connection) as queries:
            data = search(client, "papaya", limit=limit)
        assert len(data["results"]) == limit
        counts.append(len(queries))
    next_url = search(client, "papaya", limit=5)["next"]
    with CaptureQueriesContext(connection) as queries:
        assert len(follow(client, next_url)["results"]) == 5
    assert counts == [counts[0]] * 3
    assert len(queries) == counts[0]


def test_snippets_escape_the_content_before_marking(alice, api, direct):
    send(api(alice), direct["id"], '<script>alert("x")</script> <b>melon</b> & <mark>fake</mark>')
    snippet = search(api(alice), "melon")["results"][0]["snippet"]
    assert snippet == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &lt;b&gt;<mark>melon</mark>&lt;/b&gt; "
        "&amp; &lt;mark&gt;fake&lt;/mark&gt;"
    )
    send(api(alice), direct["id"], "a<b && c>d plum")
    assert search(api(alice), "plum")["results"][0]["snippet"] == "a&lt;b &amp;&amp; c&gt;d <mark>plum</mark>"


def test_a_long_message_gives_a_window_around_the_match(alice, api, direct):
    send(api(alice), direct["id"], "lorem " * 100 + "needle" + " ipsum" * 100)
    snippet = search(api(alice), "needle")["results"][0]["snippet"]
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>needle</mark>" in snippet
    assert len(snippet) < 220


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("", "empty"),
        ("   ", "blank"),
        ("a" * 201, "too long"),
        ('"', "a quote"),
        ('"*" AND OR NOT NEAR ( ) - ^ :', "only FTS syntax"),
        ("NEAR(", "an operator"),
    ],
)
def test_bad_queries_are_refused_and_store_nothing(alice, api, direct, query, why):
    send(api(alice), direct["id"], "stored")
    before = (Message.objects.count(), Event.objects.count())
    response = api(alice).get(f"{SEARCH}?q={quote(query)}")
    assert response.status_code == 400, (why, response.text)
    assert body(response)["code"] == "query_invalid"
    assert (Message.objects.count(), Event.objects.count()) == before


def test_a_missing_q_and_bad_parameters(alice, api, direct):
    assert body(api(alice).get(SEARCH))["code"] == "query_invalid"
    bad = ("cursor=nonsense", "cursor=nan~1~0", "cursor=1~2", "cursor=1~x~0", "conversation=abc", "limit=0")
    for params in bad:
        response = api(alice).get(f"{SEARCH}?q=word&{params}")
        assert response.status_code == 400, (params, response.text)
        assert body(response)["code"] == "invalid_parameter"


def test_syntax_inside_a_query_is_searched_as_text(alice, api, direct):
    send(api(alice), direct["id"], "grape-fruit juice: (fresh)")
    for query in ('"grape" fruit*', "grape AND fruit", "-grape ^fruit", "juice:fresh", "(fresh)"):
        assert found(search(api(alice), query)) == ["grape-fruit juice: (fresh)"], query


def test_anonymous_gets_401(api):
    response = api(None).get(f"{SEARCH}?q=word")
    assert response.status_code == 401
    assert "code" in body(response)


def test_a_caller_with_no_conversation_gets_an_empty_page(alice, api):
    assert search(api(alice), "anything") == {"results": [], "next": None}


@pg_only
def test_postgresql_answers_from_the_gin_index(alice, api, direct):
    send(api(alice), direct["id"], "indexed words")
    from parley.selectors import search as selector

    # The selector's expression is the index's: with no other way in, the plan uses it.
    # "No other way in": no sequential or plain index scan, and the table's other indexes
    # dropped inside a transaction rolled back at once (on a tiny table the planner may
    # otherwise prefer a bitmap over the live-messages b-tree, which proves nothing).
    document = searchindex.DOCUMENT_SQL.format(t="m")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'parley_message' AND indexname <> %s"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [searchindex.PG_INDEX],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(
            f"EXPLAIN SELECT m.id FROM parley_message m WHERE NOT m.is_deleted AND {document} @@ "  # noqa: S608
            "(plainto_tsquery('simple'::regconfig, %s) && %s::tsquery)",
            ["indexed", f"'c {direct['id']}'"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    assert searchindex.PG_INDEX in plan, plan
    assert selector.search_sql(scoped=True, paged=False).count(document) == 1


@sqlite_only
def test_sqlite_triggers_come_back_after_a_table_rebuild(alice, api, direct):
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER parley_message_fts_insert")
    send(api(alice), direct["id"], "unindexedcanary")
    assert search(api(alice), "unindexedcanary")["results"] == []
    assert searchindex.sqlite_triggers_ensure(connection) == ["parley_message_fts_insert"]
    assert found(search(api(alice), "unindexedcanary")) == ["unindexedcanary"]
    assert searchindex.sqlite_triggers_ensure(connection) == []
    send(api(alice), direct["id"], "unindexedcanary again")
    assert len(search(api(alice), "unindexedcanary")["results"]) == 2

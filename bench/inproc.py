"""Query counts and query plans, measured inside Django on the seeded database.

    python -m bench.inproc --fixture var/bench/<mode>-fixture.json

Prints JSON: the number of SQL statements each endpoint runs (through Django's test
client, with the fixture's real tokens), and on PostgreSQL whether the keyset page at
the deepest point uses the partial index. Figures for the report; the deterministic
guards themselves are tests (bench/test_guards.py).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from parley.selectors import ConversationHistory  # noqa: E402


def count(client: Client, method: str, path: str, token: str, **kwargs: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(path, HTTP_AUTHORIZATION=f"Bearer {token}", **kwargs)
    assert response.status_code < 300, (path, response.status_code, response.content[:200])
    return len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixture", required=True)
    args = parser.parse_args()
    with open(args.fixture) as f:
        fx = json.load(f)
    users = fx["users"]
    client = Client(HTTP_HOST="127.0.0.1")
    out: dict[str, Any] = {}
    for n, spec in fx["list_users"].items():
        token = users[spec["user"]]["token"]
        out[f"list_{n}"] = count(client, "get", "/api/chat/conversations/", token)
        out[f"list_{n}_embed0"] = count(client, "get", "/api/chat/conversations/?embed=0", token)
    deep = fx["deep"]
    token = users[deep["a"]]["token"]
    base = f"/api/chat/conversations/{deep['id']}/messages/"
    out["history_newest"] = count(client, "get", f"{base}?limit=50", token)
    out["history_deepest"] = count(client, "get", f"{base}?before={deep['first_id'] + 50}&limit=50", token)
    pair = fx["pairs"][0]
    out["send_message"] = count(
        client,
        "post",
        f"/api/chat/conversations/{pair['id']}/send_message/",
        users[pair["a"]]["token"],
        data={"content": "query count"},
        content_type="application/json",
    )
    if connection.vendor == "postgresql":
        # The history of an ordinary conversation (one pair's, among the deep one's
        # 10^5..10^6 rows) and of the deep one, at its deepest page.
        for name, cid, before in (
            ("small", pair["id"], None),
            ("deep", deep["id"], deep["first_id"] + 50),
        ):
            # The page's own statement (parley.selectors.history), as the API runs it.
            history = ConversationHistory(cid, viewer_id=users[pair["a"]]["id"])
            with CaptureQueriesContext(connection) as captured:
                history.keyset_page(before=before, after=None, limit=50)
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + captured.captured_queries[0]["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            out[f"keyset_plan_{name}"] = plan
            out[f"keyset_index_{name}"] = next(
                (line.split(" using ")[1].split(" ")[0] for line in plan.splitlines() if " using " in line), "none"
            )
            # A short history may be read through the foreign-key index and sorted (at
            # most a few hundred rows); a deep one must come in index order, unsorted.
            out[f"keyset_ok_{name}"] = "Seq Scan on parley_message" not in plan and (
                name == "small" or "Sort" not in plan
            )
    print(json.dumps(out))


if __name__ == "__main__":
    main()

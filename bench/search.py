"""Search latency (SPEC 10): `message_search` and `GET /api/chat/search/` over 10^5 and
10^6 messages in 1,000 conversations, the caller's own messages the same at both sizes.

    python -m bench.search                      # PostgreSQL and SQLite, 10^5 then 10^6
    python -m bench.search --db postgresql --sizes 100000,1000000 --reps 15
    make bench-search

Each vendor runs in its own child process, with one database per size: PostgreSQL
databases `h_search_bench_<size>` on the shared server (BENCH_SEARCH_PG names the base,
default postgres://postgres@127.0.0.1:5432/h_search_bench; dropped afterwards), SQLite
files var/bench/search-<size>.sqlite3 (deleted afterwards). Layout in each: 2,000 users,
1,000 groups of 5; the caller is in 10 of them, which hold the same 1,000 messages each
(10^4, identical in every database); the other 990 groups take the rest. The sizes are
measured in turns, round by round, so that the machine's load (shared, busy) falls on
each alike. Words follow a Zipf law over 20,000 made-up words, 5-20 a
message. Queries come in bands by how many of the caller's messages hold them:
"common" (the 5 most frequent words: most messages), "medium" (ranks 50-200: about 1 %),
"rare" (ranks 2,000-10,000: a handful), "two words" (a common and a medium word) and
"none" (a word nobody wrote). Every query runs `reps` times for the first page (20
hits); p50/p95 per band and over all. The table goes to stdout and to
bench/results/<stamp>-search.md with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench import searchseed as seed

ROOT = seed.ROOT


def queries_make(words: list[str], rng: random.Random) -> dict[str, list[str]]:
    return {
        "common": words[:5],
        "medium": [words[i] for i in rng.sample(range(50, 200), 5)],
        "rare": [words[i] for i in rng.sample(range(2000, 10000), 5)],
        "two words": [f"{words[i]} {words[j]}" for i, j in zip(range(5), rng.sample(range(50, 200), 5), strict=True)],
        "none": ["qqqxxq", "zzwzzw"],
    }


# ---------------------------------------------------------------- child process


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(
    times: dict[str, list[float]], rest: dict[str, list[float]], hits: dict[str, float], queries: dict[str, list[str]]
) -> dict[str, Any]:
    bands: dict[str, Any] = {}
    for band in queries:
        bands[band] = {
            "queries": len(queries[band]),
            "hits_first_page": hits[band],
            "p50": statistics.median(times[band]),
            "p95": _percentile(times[band], 0.95),
            "rest_p50": statistics.median(rest[band]),
        }
    every = [t for band in queries for t in times[band]]
    every_rest = [t for band in queries for t in rest[band]]
    bands["all"] = {
        "queries": sum(len(t) for t in queries.values()),
        "hits_first_page": None,
        "p50": statistics.median(every),
        "p95": _percentile(every, 0.95),
        "rest_p50": statistics.median(every_rest),
    }
    return bands


def _measure(names: list[str], queries: dict[str, list[str]], reps: int) -> list[dict[str, Any]]:
    """Every query on every database, `reps` rounds, the databases taking turns each
    round: a change in the machine's load falls on every size alike."""
    from django.test import Client

    from parley.searchtext import search_terms
    from parley.selectors.search import message_search
    from server.accounts.models import User
    from server.accounts.tokens import token_pair_for_user

    state = []
    for name in names:
        seed.use(name)
        caller = User.objects.get(username="search00000")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token_pair_for_user(caller)['access']}")
        hits = {}
        for band, texts in queries.items():
            found = [
                len(
                    message_search(
                        user_id=caller.pk, terms=search_terms(t), conversation_id=None, after=None, limit=20
                    ).hits
                )
                for t in texts
            ]
            hits[band] = sum(found) / len(found)
        state.append((name, caller, client, hits, {b: [] for b in queries}, {b: [] for b in queries}))
    for rep in range(reps):
        for name, caller, client, _, times, rest in state:
            seed.use(name)
            User.objects.filter(pk=caller.pk).exists()  # connect outside the timings
            for band, texts in queries.items():
                for text in texts:
                    terms = search_terms(text)
                    started = time.perf_counter()
                    message_search(user_id=caller.pk, terms=terms, conversation_id=None, after=None, limit=20)
                    times[band].append((time.perf_counter() - started) * 1000)
                    if rep % 3 == 0:
                        started = time.perf_counter()
                        response = client.get("/api/chat/search/", {"q": text})
                        rest[band].append((time.perf_counter() - started) * 1000)
                        assert response.status_code == 200, response.content[:200]
    return [_summary(times, rest, hits, queries) for _, _, _, hits, times, rest in state]


def _plan(caller: Any, text: str) -> list[str]:
    """EXPLAIN ANALYZE of the selector's search statement (PostgreSQL)."""
    from django.db import connection

    from parley.searchtext import search_terms
    from parley.selectors.search import search_params, search_scope, search_sql

    scope = search_scope(user_id=caller.pk, conversation_id=None)
    params = search_params(user_id=caller.pk, terms=search_terms(text), scope=scope, scoped=True)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + search_sql(scoped=True, paged=False), {**params, "limit": 21})
        return [row[0] for row in cursor.fetchall()]


def child(db: str, sizes: list[int], reps: int, keep: bool = False) -> dict[str, Any]:
    names = seed.names(db, sizes)
    for name in names:
        seed.fresh_database(db, name)
    seed.setup(db, names[0])
    from django.core.management import call_command
    from django.db import connection

    result: dict[str, Any] = {"db": db, "vendor_version": "", "sizes": {}}
    rng = random.Random(11)
    words = seed.words_make(rng)
    queries = queries_make(words, rng)
    try:
        loads = {}
        for name, size in zip(names, sizes, strict=True):
            seed.use(name)
            call_command("migrate", verbosity=0)
            with connection.cursor() as cursor:
                cursor.execute("SELECT version()" if db == "postgresql" else "SELECT sqlite_version()")
                result["vendor_version"] = cursor.fetchone()[0].split(" on ")[0]
            caller, mine, others = seed.world()
            # The caller's messages first, from the same seed: the same 10^4 in every database.
            plan = [(cid, seed.CALLER_MESSAGES) for cid in mine]
            per, extra = divmod(size - seed.CALLER_MESSAGES * len(mine), len(others))
            plan += [(cid, per + (1 if i < extra else 0)) for i, cid in enumerate(others)]
            rows, seconds = seed.messages_insert(db, plan, words, seed=100)
            loads[size] = seconds
            print(f"[{db}] {rows:,} messages loaded and indexed in {seconds:.0f} s", flush=True)
        bands = _measure(names, queries, reps)
        for name, size, summary in zip(names, sizes, bands, strict=True):
            result["sizes"][size] = {"load_seconds": loads[size], "bands": summary, "loadavg": os.getloadavg()}
            if db == "postgresql":
                seed.use(name)
                from server.accounts.models import User

                caller = User.objects.get(username="search00000")
                for band in ("common", "medium"):
                    print(f"[{db}] {size:,} plan of a {band} query:", *_plan(caller, queries[band][0]), sep="\n  ")
    finally:
        if not keep:
            for name in names:
                seed.drop_database(db, name)
    return result


# ---------------------------------------------------------------- parent process


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | messages | band | queries | first-page hits | selector p50 ms | p95 ms | REST p50 ms |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        for size, data in result["sizes"].items():
            for band, row in data["bands"].items():
                hits = "" if row["hits_first_page"] is None else f"{row['hits_first_page']:.0f}"
                lines.append(
                    f"| {result['db']} | {int(size):,} | {band} | {row['queries']} | {hits} | "
                    f"{row['p50']:.1f} | {row['p95']:.1f} | {row['rest_p50']:.1f} |"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the database (one --db only)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        print("RESULT " + json.dumps(child(args.db, sizes, args.reps, keep=args.keep)), flush=True)
        return 0
    before = os.getloadavg()
    results = []
    for db in ["postgresql", "sqlite"] if args.db == "both" else [args.db]:
        command = [sys.executable, "-m", "bench.search", "--child", "--db", db, "--sizes", args.sizes]
        command += ["--keep"] if args.keep else []
        process = subprocess.run(
            [*command, "--reps", str(args.reps)], cwd=ROOT, capture_output=True, text=True, check=False
        )
        sys.stderr.write(process.stderr[-3000:] if process.returncode else "")
        for line in process.stdout.splitlines():
            if line.startswith("RESULT "):
                results.append(json.loads(line[7:]))
            else:
                print(line)
        if process.returncode:
            print(f"{db}: child failed ({process.returncode})")
    after = os.getloadavg()
    versions = ", ".join(f"{r['db']} {r['vendor_version']}" for r in results)
    loads = "; ".join(f"{r['db']} {int(s):,}: {d['loadavg'][0]:.1f}" for r in results for s, d in r["sizes"].items())
    loading = "; ".join(
        f"{r['db']} {int(s):,}: {d['load_seconds']:.0f} s" for r in results for s, d in r["sizes"].items()
    )
    report = (
        f"# Search benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
        f"`python -m bench.search --db {args.db} --sizes {args.sizes} --reps {args.reps}` on {os.cpu_count()} cores; "
        f"{versions}.\nLoad average (1 min) before {before[0]:.1f}, after {after[0]:.1f}; "
        f"after each vendor: {loads}.\n"
        f"Seeding and index build: {loading}.\n\n" + table(results) + "\n"
    )
    print(report)
    out = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y%m%d-%H%M}-search.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    return 0 if results else 1


if __name__ == "__main__":
    raise SystemExit(main())

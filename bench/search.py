"""Search latency (SPEC 10): `message_search` and `GET /api/chat/search/` over 10^5 and
10^6 messages in 1,000 conversations, the caller's own messages the same at both sizes.

    python -m bench.search                      # PostgreSQL and SQLite, 10^5 then 10^6
    python -m bench.search --db postgresql --sizes 100000,1000000 --reps 15
    make bench-search

Each database runs in its own child process (its own DATABASE_URL): PostgreSQL in a
private database on the shared server (BENCH_SEARCH_PG, default
postgres://postgres@127.0.0.1:5432/h_search_bench, dropped afterwards), SQLite in
var/bench/search.sqlite3 (deleted afterwards). Layout: 2,000 users, 1,000 groups of 5;
the caller is in 10 of them, which hold 1,000 messages each (10^4, fixed); the other
990 groups take the rest. Words follow a Zipf law over 20,000 made-up words, 5-20 a
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BENCH_SEARCH_PG", "postgres://postgres@127.0.0.1:5432/h_search_bench")
SQLITE_PATH = ROOT / "var" / "bench" / "search.sqlite3"
USERS, CONVERSATIONS, MEMBERS, CALLER_CONVERSATIONS, CALLER_MESSAGES = 2000, 1000, 5, 10, 1000
VOCABULARY = 20_000
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def words_make(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "po", "si", "ve", "zu", "da", "fe", "gi", "ho", "ju", "by"]
    seen: set[str] = set()
    words: list[str] = []
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def queries_make(words: list[str], rng: random.Random) -> dict[str, list[str]]:
    return {
        "common": words[:5],
        "medium": [words[i] for i in rng.sample(range(50, 200), 5)],
        "rare": [words[i] for i in rng.sample(range(2000, 10000), 5)],
        "two words": [f"{words[i]} {words[j]}" for i, j in zip(range(5), rng.sample(range(50, 200), 5), strict=True)],
        "none": ["qqqxxq", "zzwzzw"],
    }


# ---------------------------------------------------------------- child process


def _setup(db: str) -> None:
    os.environ["DATABASE_URL"] = PG_URL if db == "postgresql" else f"sqlite:///{SQLITE_PATH}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log


def _fresh_database(db: str) -> None:
    if db == "sqlite":
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        for leftover in SQLITE_PATH.parent.glob(SQLITE_PATH.name + "*"):
            leftover.unlink()
        return
    import psycopg

    name = PG_URL.rsplit("/", 1)[1]
    with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def _drop_database(db: str) -> None:
    from django.db import connection

    connection.close()
    if db == "sqlite":
        for leftover in SQLITE_PATH.parent.glob(SQLITE_PATH.name + "*"):
            leftover.unlink()
        return
    import psycopg

    name = PG_URL.rsplit("/", 1)[1]
    with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _world() -> tuple[Any, list[int], list[int]]:
    """Users, groups and memberships: the caller, its conversations and the others."""
    from parley.models import Conversation, Membership
    from server.accounts.models import User

    users = User.objects.bulk_create(
        [User(username=f"search{i:05d}", password="!", is_active=True) for i in range(USERS)], batch_size=1000
    )
    conversations = Conversation.objects.bulk_create(
        [Conversation(kind="group", title=f"g{i}", created_at=EPOCH, updated_at=EPOCH) for i in range(CONVERSATIONS)],
        batch_size=1000,
    )
    rng = random.Random(7)
    rows = []
    for n, conversation in enumerate(conversations):
        members = {users[0].pk} if n < CALLER_CONVERSATIONS else set()
        while len(members) < MEMBERS:
            members.add(users[rng.randrange(1, USERS)].pk)
        rows += [Membership(conversation=conversation, user_id=uid) for uid in members]
    Membership.objects.bulk_create(rows, batch_size=5000)
    ids = [c.pk for c in conversations]
    return users[0], ids[:CALLER_CONVERSATIONS], ids[CALLER_CONVERSATIONS:]


def _columns() -> list[str]:
    return ["conversation_id", "sender_id", "content", "timestamp", "seq"]


def _defaults() -> dict[str, Any]:
    """Every other NOT NULL column of the message table, at its model default (so that
    a column added later does not break the seed)."""
    from parley.models import Message

    values: dict[str, Any] = {}
    for field in Message._meta.concrete_fields:
        if field.primary_key or field.null or field.column in _columns():
            continue
        values[field.column] = field.get_default()
    return values


def _messages_insert(db: str, plan: list[tuple[int, int]], words: list[str], seed: int) -> tuple[int, float]:
    """`plan`: (conversation id, count). Returns (rows, seconds). The search structures
    are rebuilt after the load (PostgreSQL: index dropped and created; SQLite: the FTS
    insert trigger dropped, then parley.searchindex restores and backfills it)."""
    from django.db import connection

    from parley import searchindex

    rng = random.Random(seed)
    cum = list(_zipf_cum())
    defaults = _defaults()
    columns = _columns() + list(defaults)
    total = sum(count for _, count in plan)
    started = time.perf_counter()

    def rows():
        n = 0
        for cid, count in plan:
            for i in range(count):
                text = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(5, 20)))
                n += 1
                at = EPOCH + timedelta(seconds=n)
                yield (cid, None, text, at, i + 1, *defaults.values())

    with connection.cursor() as cursor:
        if db == "postgresql":
            cursor.execute(searchindex.PG_DROP)
            with cursor.cursor.copy(f"COPY parley_message ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
            cursor.execute(searchindex.PG_CREATE)
            cursor.execute("VACUUM ANALYZE parley_message")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS parley_message_fts_insert")
            sql = f"INSERT INTO parley_message ({', '.join(columns)}) VALUES ({', '.join('%s' for _ in columns)})"  # noqa: S608
            batch: list[tuple[Any, ...]] = []
            for row in rows():
                batch.append(tuple(v.isoformat() if isinstance(v, datetime) else v for v in row))
                if len(batch) >= 20_000:
                    cursor.executemany(sql, batch)
                    batch.clear()
            cursor.executemany(sql, batch)
            searchindex.sqlite_triggers_ensure(connection)
            cursor.execute("ANALYZE")
    return total, time.perf_counter() - started


def _zipf_cum():
    total = 0.0
    for rank in range(1, VOCABULARY + 1):
        total += 1.0 / rank
        yield total


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _measure(caller: Any, queries: dict[str, list[str]], reps: int) -> dict[str, Any]:
    from django.test import Client

    from parley.searchtext import search_terms
    from parley.selectors.search import message_search
    from server.accounts.tokens import token_pair_for_user

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_pair_for_user(caller)['access']}")
    bands: dict[str, Any] = {}
    every: list[float] = []
    every_rest: list[float] = []
    for band, texts in queries.items():
        times: list[float] = []
        rest: list[float] = []
        hits = 0
        for text in texts:
            terms = search_terms(text)
            page = message_search(user_id=caller.pk, terms=terms, conversation_id=None, after=None, limit=20)
            hits += len(page.hits)
            for _ in range(reps):
                started = time.perf_counter()
                message_search(user_id=caller.pk, terms=terms, conversation_id=None, after=None, limit=20)
                times.append((time.perf_counter() - started) * 1000)
            for _ in range(max(1, reps // 3)):
                started = time.perf_counter()
                response = client.get("/api/chat/search/", {"q": text})
                rest.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.content[:200]
        every += times
        every_rest += rest
        bands[band] = {
            "queries": len(texts),
            "hits_first_page": hits / len(texts),
            "p50": statistics.median(times),
            "p95": _percentile(times, 0.95),
            "rest_p50": statistics.median(rest),
        }
    bands["all"] = {
        "queries": sum(len(t) for t in queries.values()),
        "hits_first_page": None,
        "p50": statistics.median(every),
        "p95": _percentile(every, 0.95),
        "rest_p50": statistics.median(every_rest),
    }
    return bands


def _caller_matches(caller: Any, word: str) -> int:
    from parley.models import Message

    return Message.objects.filter(
        conversation__memberships__user=caller, is_deleted=False, content__regex=rf"(^| ){word}( |$)"
    ).count()


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
    _fresh_database(db)
    _setup(db)
    from django.core.management import call_command
    from django.db import connection

    result: dict[str, Any] = {"db": db, "vendor_version": "", "sizes": {}}
    try:
        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()" if db == "postgresql" else "SELECT sqlite_version()")
            result["vendor_version"] = cursor.fetchone()[0].split(" on ")[0]
        caller, mine, others = _world()
        rng = random.Random(11)
        words = words_make(rng)
        queries = queries_make(words, rng)
        result["caller_matches"] = {q: _caller_matches(caller, q.split()[0]) for q in [*queries["common"][:1]]}
        loaded = 0
        for step, size in enumerate(sizes):
            plan = [(cid, CALLER_MESSAGES) for cid in mine] if step == 0 else []
            rest = size - loaded - sum(count for _, count in plan)
            per, extra = divmod(rest, len(others))
            plan += [(cid, per + (1 if i < extra else 0)) for i, cid in enumerate(others)]
            rows, seconds = _messages_insert(db, plan, words, seed=100 + step)
            loaded += rows
            bands = _measure(caller, queries, reps)
            result["sizes"][size] = {"load_seconds": seconds, "bands": bands, "loadavg": os.getloadavg()}
            if db == "postgresql":
                for band in ("common", "medium"):
                    print(f"[{db}] {size:,} plan of a {band} query:", *_plan(caller, queries[band][0]), sep="\n  ")
            print(f"[{db}] {size:,} messages loaded in {seconds:.0f} s; p50 {bands['all']['p50']:.1f} ms", flush=True)
    finally:
        if not keep:
            _drop_database(db)
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
        f"at each measurement: {loads}.\n"
        f"Seeding and index build: {loading}.\n\n" + table(results) + "\n"
    )
    print(report)
    out = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y%m%d-%H%M}-search.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    return 0 if results else 1


if __name__ == "__main__":
    raise SystemExit(main())

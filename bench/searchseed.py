"""The search benchmark's data: one database per size, the same world and the same
caller's messages in each (bench/search.py measures them).

    names / setup / use      one PostgreSQL database or SQLite file per size, and
                             switching the default connection between them
    world                    2,000 users, 1,000 groups of 5, the caller in 10
    messages_insert          COPY (PostgreSQL) or executemany (SQLite); the search
                             structures rebuilt after the load
"""

from __future__ import annotations

import os
import random
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


def names(db: str, sizes: list[int]) -> list[str]:
    """One database per size: PostgreSQL database names, or SQLite file paths."""
    if db == "postgresql":
        base = PG_URL.rsplit("/", 1)[1]
        return [f"{base}_{size}" for size in sizes]
    return [str(SQLITE_PATH.with_name(f"{SQLITE_PATH.stem}-{size}.sqlite3")) for size in sizes]


def setup(db: str, first: str) -> None:
    if db == "postgresql":
        os.environ["DATABASE_URL"] = PG_URL.rsplit("/", 1)[0] + "/" + first
        # bench.settings without the pool (it is bound to one database) and with
        # persistent connections, so switching databases is a reconnect.
        os.environ["BENCH_PERSISTENT"] = "600"
        os.environ["BENCH_NO_HEALTH_CHECKS"] = "1"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{first}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log


def use(name: str) -> None:
    """Point the default connection at another of the bench databases."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def fresh_database(db: str, name: str) -> None:
    if db == "sqlite":
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        for leftover in Path(name).parent.glob(Path(name).name + "*"):
            leftover.unlink()
        return
    import psycopg

    with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(db: str, name: str) -> None:
    from django.db import connection

    connection.close()
    if db == "sqlite":
        for leftover in Path(name).parent.glob(Path(name).name + "*"):
            leftover.unlink()
        return
    import psycopg

    with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def world() -> tuple[Any, list[int], list[int]]:
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


def messages_insert(db: str, plan: list[tuple[int, int]], words: list[str], seed: int) -> tuple[int, float]:
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

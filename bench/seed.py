"""The data-set generator: users, conversations and messages for every scenario.

    python -m bench.seed --profile quick --out var/bench/fixture.json

Runs inside Django against the mode's database (the caller sets DATABASE_URL), right
after `migrate` on an empty database. Small tables go through the ORM; messages and
their events go through PostgreSQL COPY, or one executemany transaction on SQLite, so
10^6 messages take seconds. Writes a fixture file the load generators read: ids, and
an access token per user (minted here with the server's SECRET_KEY, as login would).

Layout (user indexes):

    group1000    users 0..999 (0 is admin); group100 is users 0..99
    s7 groups    groups of 100 reconnecting users
    pairs        direct conversations of two users each (S1 spreads sends over them,
                 S4 sends from a to b, S6 opens idle sockets as their users)
    deep         one direct conversation with `profile.deep` messages (S2)
    list users   three users with 10, 100 and `profile.list_conversations`
                 direct conversations, `profile.list_messages` messages each (S3)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from bench.profiles import PROFILES, Profile  # noqa: E402
from parley.models import Conversation, Event, Membership, Message  # noqa: E402
from server.accounts.models import User  # noqa: E402
from server.accounts.tokens import SESSION_CLAIM  # noqa: E402

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
TEXT = "The quick brown fox jumps over the lazy dog; a benchmark message of ordinary length #"


def users_create(count: int) -> list[User]:
    password = make_password("bench-password-1")
    users = [User(username=f"bench{i:05d}", password=password, is_active=True) for i in range(count)]
    created = User.objects.bulk_create(users, batch_size=1000)
    return created


def conversation_create(
    *, kind: str, member_ids: list[int], title: str = "", direct_key: str | None = None, at: datetime = EPOCH
) -> int:
    conversation = Conversation.objects.create(
        kind=kind, title=title, direct_key=direct_key, created_by_id=member_ids[0], created_at=at, updated_at=at
    )
    Membership.objects.bulk_create(
        [
            Membership(conversation=conversation, user_id=uid, role="admin" if n == 0 and kind == "group" else "member")
            for n, uid in enumerate(member_ids)
        ],
        batch_size=1000,
    )
    return int(conversation.pk)


def directs_create(pairs: list[tuple[int, int]], *, at: datetime = EPOCH) -> list[int]:
    """Many direct conversations in three statements."""
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                kind="direct",
                direct_key=f"{min(a, b)}:{max(a, b)}",
                created_by_id=a,
                created_at=at + timedelta(seconds=n),
                updated_at=at + timedelta(seconds=n),
            )
            for n, (a, b) in enumerate(pairs)
        ],
        batch_size=1000,
    )
    Membership.objects.bulk_create(
        [Membership(conversation=c, user_id=uid) for c, pair in zip(conversations, pairs, strict=True) for uid in pair],
        batch_size=2000,
    )
    return [int(c.pk) for c in conversations]


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 - our own table
        return int(cursor.fetchone()[0])


def messages_insert(
    plan: Iterable[tuple[int, list[int], int]], *, start: datetime = EPOCH
) -> dict[int, tuple[int, int]]:
    """Append `count` messages by rotating senders to each conversation of the plan.

    Returns {conversation id: (first message id, last message id)} and moves each
    conversation's last_seq, last_message and updated_at as message_send would.
    """
    plan = list(plan)
    message_table, event_table = Message._meta.db_table, Event._meta.db_table
    message_cols = [f.column for f in Message._meta.concrete_fields]
    event_cols = [f.column for f in Event._meta.concrete_fields]
    first_message, first_event = _next_id(message_table), _next_id(event_table)
    seqs = dict(Conversation.objects.filter(pk__in=[p[0] for p in plan]).values_list("id", "last_seq"))
    spans: dict[int, tuple[int, int]] = {}
    ends: dict[int, tuple[int, int, datetime]] = {}

    def rows() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        mid, eid = first_message, first_event
        for cid, senders, count in plan:
            seq = seqs[cid]
            first = mid
            at = start
            for n in range(count):
                seq += 1
                at = start + timedelta(milliseconds=n)
                sender = senders[n % len(senders)]
                message = {
                    "id": mid,
                    "conversation_id": cid,
                    "sender_id": sender,
                    "content": f"{TEXT}{n}",
                    "attachment": "",
                    "attachment_name": "",
                    "attachment_size": None,
                    "attachment_type": "",
                    "timestamp": at,
                    "seq": seq,
                    "client_id": None,
                    "is_read": False,
                    "read_at": None,
                    "is_deleted": False,
                    "deleted_at": None,
                    "edited_at": None,
                    # SPEC 10's columns, as a plain message has them
                    "reply_to_id": None,
                    "mentions": "[]",
                    "pinned_at": None,
                    "reaction_summary": "[]",
                }
                event = {
                    "id": eid,
                    "conversation_id": cid,
                    "seq": seq,
                    "type": "message.created",
                    "message_id": mid,
                    "actor_id": sender,
                    "data": "{}",
                    "created_at": at,
                }
                yield message, event
                mid += 1
                eid += 1
            if count:
                spans[cid] = (first, mid - 1)
                ends[cid] = (seq, mid - 1, at)

    with transaction.atomic():
        if connection.vendor == "postgresql":
            _copy(message_table, event_table, message_cols, event_cols, rows())
        else:
            _executemany(message_table, event_table, message_cols, event_cols, rows())
        for cid, (seq, last_id, at) in ends.items():
            Conversation.objects.filter(pk=cid).update(last_seq=seq, last_message_id=last_id, updated_at=at)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in (message_table, event_table):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608
    return spans


def _copy(mt: str, et: str, mcols: list[str], ecols: list[str], rows: Iterator[Any]) -> None:
    events: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {mt} ({', '.join(mcols)}) FROM STDIN") as copy:
            for message, event in rows:
                copy.write_row(tuple(message[c] for c in mcols))
                events.append(tuple(event[c] for c in ecols))
        with raw.copy(f"COPY {et} ({', '.join(ecols)}) FROM STDIN") as copy:
            for row in events:
                copy.write_row(row)


def _executemany(mt: str, et: str, mcols: list[str], ecols: list[str], rows: Iterator[Any]) -> None:
    m_sql = f"INSERT INTO {mt} ({', '.join(mcols)}) VALUES ({', '.join('?' * len(mcols))})"  # noqa: S608
    e_sql = f"INSERT INTO {et} ({', '.join(ecols)}) VALUES ({', '.join('?' * len(ecols))})"  # noqa: S608
    raw = connection.connection
    batch_m: list[tuple[Any, ...]] = []
    batch_e: list[tuple[Any, ...]] = []

    def flush() -> None:
        raw.executemany(m_sql, batch_m)
        raw.executemany(e_sql, batch_e)
        batch_m.clear()
        batch_e.clear()

    connection.ensure_connection()
    for message, event in rows:
        message = {**message, "timestamp": message["timestamp"].isoformat(), "is_read": 0, "is_deleted": 0}
        event = {**event, "created_at": event["created_at"].isoformat()}
        batch_m.append(tuple(message[c] for c in mcols))
        batch_e.append(tuple(event[c] for c in ecols))
        if len(batch_m) >= 20_000:
            flush()
    flush()


def token_for(user: User) -> str:
    token = AccessToken.for_user(user)
    token[SESSION_CLAIM] = uuid.uuid4().hex
    return str(token)


def seed(profile: Profile) -> dict[str, Any]:
    t0 = time.monotonic()
    s7_users = max(100, profile.s7_clients)
    pair_users = 2 * max(profile.pairs, (profile.s6_sockets // 10 + 1) // 2 + 1)
    counts = {"a": 1000, "s7": s7_users, "pairs": pair_users, "deep": 2, "list": 3}
    users = users_create(sum(counts.values()))
    ids = [int(u.pk) for u in users]
    offsets = dict(zip(counts, itertools.accumulate([0, *counts.values()]), strict=False))

    def block(name: str) -> list[int]:
        return list(range(offsets[name], offsets[name] + counts[name]))

    a, s7, pair_idx, deep_idx, list_idx = (block(n) for n in counts)
    fixture: dict[str, Any] = {"profile": profile.name, "vendor": connection.vendor}
    fixture["group1000"] = {
        "id": conversation_create(kind="group", member_ids=[ids[i] for i in a], title="g1000"),
        "members": a,
    }
    fixture["group100"] = {
        "id": conversation_create(kind="group", member_ids=[ids[i] for i in a[:100]], title="g100"),
        "members": a[:100],
    }
    fixture["s7_groups"] = [
        {
            "id": conversation_create(kind="group", member_ids=[ids[i] for i in s7[k : k + 100]], title=f"s7-{k}"),
            "members": s7[k : k + 100],
        }
        for k in range(0, len(s7), 100)
    ]
    pairs = [(pair_idx[k], pair_idx[k + 1]) for k in range(0, len(pair_idx) - 1, 2)]
    pair_ids = directs_create([(ids[x], ids[y]) for x, y in pairs])
    fixture["pairs"] = [{"id": cid, "a": x, "b": y} for cid, (x, y) in zip(pair_ids, pairs, strict=True)]

    deep_a, deep_b = deep_idx
    deep_id = directs_create([(ids[deep_a], ids[deep_b])])[0]
    span = messages_insert([(deep_id, [ids[deep_a], ids[deep_b]], profile.deep)]).get(deep_id, (0, 0))
    fixture["deep"] = {
        "id": deep_id,
        "a": deep_a,
        "b": deep_b,
        "count": profile.deep,
        "first_id": span[0],
        "last_id": span[1],
    }

    fixture["list_users"] = {}
    plan: list[tuple[int, list[int], int]] = []
    for user_index, n in zip(list_idx, (10, 100, profile.list_conversations), strict=True):
        partners = a[:n]
        cids = directs_create([(ids[user_index], ids[p]) for p in partners], at=EPOCH + timedelta(days=1))
        plan += [(cid, [ids[user_index], ids[p]], profile.list_messages) for cid, p in zip(cids, partners, strict=True)]
        fixture["list_users"][str(n)] = {"user": user_index, "conversations": n}
    messages_insert(plan, start=EPOCH + timedelta(days=2))
    # A little history in the groups, so that their sockets start at a seq > 0.
    messages_insert(
        [
            (g["id"], [ids[i] for i in g["members"][:5]], 5)
            for g in [fixture["group1000"], fixture["group100"], *fixture["s7_groups"]]
        ]
    )

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    fixture["users"] = [{"id": int(u.pk), "token": token_for(u)} for u in users]
    fixture["seed_seconds"] = round(time.monotonic() - t0, 2)
    return fixture


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    fixture = seed(PROFILES[args.profile])
    with open(args.out, "w") as f:
        json.dump(fixture, f)
    print(f"seeded in {fixture['seed_seconds']} s")


if __name__ == "__main__":
    main()

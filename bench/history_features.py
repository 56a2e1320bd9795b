"""The history page with SPEC 10's reactions, replies and mentions, against a plain one.

    python -m bench.history_features [--messages 2000] [--requests 400]

In-process (Django's test client, a real JWT, no server or network): one conversation
of `--messages` messages, then the median and p95 time of
`GET /api/chat/conversations/{id}/messages/?limit=50` (the newest page, keyset mode) and
of the page in the middle (`?before=`), with the process CPU time of each (on SQLite the
whole request; steadier than wall time on a shared machine) and the queries it costs.

    plain      messages as before SPEC 10
    decorated  every message with 3 reactions (2 emoji, 2 users), every other one a
               reply quoting the message before it, every third a mention

Run it on the code before SPEC 10 (only `plain` exists there; `git archive` the base
commit into a directory and run it there) to compare with "today's" page. It creates
its own database (DATABASE_URL, default a SQLite file under /tmp) and drops it after.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench-history.sqlite3"

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def build(kind: str, count: int) -> tuple[Any, int]:
    from django.contrib.auth import get_user_model

    from parley.models import Message
    from parley.services import messages as message_services
    from parley.services.conversations import conversation_start_direct

    User = get_user_model()
    alice = User.objects.create_user(username=f"alice-{kind}", password="x-long-passphrase")
    bob = User.objects.create_user(username=f"bob-{kind}", password="x-long-passphrase")
    conversation, _ = conversation_start_direct(user=alice, other_user_id=bob.pk)
    previous: Message | None = None
    for i in range(count):
        sender = alice if i % 2 else bob
        extra: dict[str, Any] = {}
        if kind == "decorated":
            if previous is not None and i % 2:
                extra["reply_to"] = previous.pk
            if i % 3 == 0:
                extra["mentions"] = [(bob if sender is alice else alice).pk]
        message, _ = message_services.message_send(
            sender=sender, conversation_id=conversation.pk, content=f"message {i} " + "x" * 80, **extra
        )
        if kind == "decorated":
            from parley.services import reactions as reaction_services

            reaction_services.reaction_add(user=alice, message_id=message.pk, emoji="👍")
            reaction_services.reaction_add(user=bob, message_id=message.pk, emoji="👍")
            reaction_services.reaction_add(user=bob, message_id=message.pk, emoji="🎉")
        previous = message
    return alice, conversation.pk


def measure(targets: dict[str, tuple[Any, str]], requests: int) -> dict[str, Any]:
    """Each target's times, the targets taken in turn, so that a machine's load changes
    hit them alike."""
    times: dict[str, list[float]] = {name: [] for name in targets}
    cpu: dict[str, list[float]] = {name: [] for name in targets}
    for round_ in range(requests + 20):
        for name, (client, url) in targets.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
            assert response.status_code == 200, response.content
            if round_ >= 20:  # warm-up
                times[name].append(elapsed)
                cpu[name].append(elapsed_cpu)
    result = {}
    for name, (client, url) in targets.items():
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        ordered = sorted(times[name])
        result[name] = {
            "median_ms": round(statistics.median(ordered) * 1e3, 3),
            "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1e3, 3),
            # This process's CPU only: steadier than wall time on a shared machine, and on
            # SQLite (in-process) the whole cost of the request.
            "cpu_median_ms": round(statistics.median(cpu[name]) * 1e3, 3),
            "queries": len(queries.captured_queries),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--kinds", default="plain,decorated")
    args = parser.parse_args()

    from django.test import Client
    from django.test.utils import get_runner

    setup_test_environment()
    logging.disable(logging.INFO)  # one access-log line per request would be most of the time
    settings.PARLEY = {**getattr(settings, "PARLEY", {}), "RATE_LIMITS_ENABLED": False}
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old = runner.setup_databases()
    try:
        from server.accounts.tokens import token_pair_for_user

        targets: dict[str, tuple[Any, str]] = {}
        for kind in args.kinds.split(","):
            if kind == "decorated" and not os.path.exists(os.path.join("parley", "message_parts.py")):
                continue  # the code before SPEC 10
            user, cid = build(kind, args.messages)
            client = Client(headers={"Authorization": f"Bearer {token_pair_for_user(user)['access']}"})
            base = f"/api/chat/conversations/{cid}/messages/"
            middle = json.loads(client.get(base + "?limit=50").content)["results"][0]["id"] - args.messages // 2
            targets[f"{kind}_newest"] = (client, base + "?limit=50")
            targets[f"{kind}_middle"] = (client, base + f"?before={middle}&limit=50")
        out = {"vendor": connection.vendor, "messages": args.messages, **measure(targets, args.requests)}
        print(json.dumps(out))
    finally:
        runner.teardown_databases(old)


if __name__ == "__main__":
    sys.exit(main())

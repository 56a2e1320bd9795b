"""The notification worker as a real process (`manage.py parley_worker`), on the test
database: killed mid-batch and restarted (every event delivered, repeats only under the
same `webhook-id` with the same body), two workers side by side on PostgreSQL (no event
delivered twice), and the database stopped under a running worker (it waits, resumes,
and delivers what was sent after)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from parley.models import OutboxEntry, Webhook, WebhookDelivery
from parley.notify.webhooks import new_secret
from parley.services.conversations import conversation_create_group
from parley.services.messages import message_send
from tests.figures import record
from tests.livestack import ROOT, database_url_for_test, wait_for
from tests.notifystands import Received, Stand, serve
from tests.privatepg import PrivatePostgres, private_postgres  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def start_worker(database_url: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PARLEY_", "DJANGO_"))},
        "DATABASE_URL": database_url,
        "NOTIFY_ALLOW_PRIVATE_ADDRESSES": "true",
        "WORKER_POLL_SECONDS": "0.1",
        "LOG_LEVEL": "INFO",
        **env,
    }
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "manage.py", "parley_worker"], cwd=ROOT, env=environment, stdout=handle, stderr=handle
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture
def receiver() -> Iterator[Stand]:
    with serve(Stand(delay=0.05)) as stand:
        yield stand


def messages(make_user: Any, count: int) -> list[int]:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = conversation_create_group(creator=alice, participant_ids=[bob.pk], title="outbox")
    return [message_send(sender=alice, conversation_id=conversation.pk, content=f"m{n}")[0].pk for n in range(count)]


def by_id(received: list[Received]) -> dict[str, list[bytes]]:
    bodies: dict[str, list[bytes]] = defaultdict(list)
    for post in received:
        bodies[post.headers["webhook-id"]].append(post.body)
    return bodies


def all_delivered(timeout: float) -> None:
    wait_for(
        lambda: (
            not OutboxEntry.objects.exists()
            and not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DELIVERED).exists()
        ),
        timeout=timeout,
        what="every delivery delivered",
    )


def test_a_worker_killed_mid_batch_loses_nothing(make_user: Any, receiver: Stand, tmp_path: Path) -> None:
    Webhook.objects.create(url=receiver.url + "/hook", events=["message.created"], secret=new_secret())
    sent = messages(make_user, 60)
    database = database_url_for_test()
    env = {"WORKER_LEASE_SECONDS": "2", "WORKER_BATCH_SIZE": "10"}
    first = start_worker(database, tmp_path / "worker.log", **env)
    try:
        receiver.wait_for(12, timeout=60)
        first.send_signal(signal.SIGKILL)  # in the middle of a batch of sends
        first.wait(10)
        at_kill = len(receiver.received)
        second = start_worker(database, tmp_path / "worker.log", **env)
        try:
            all_delivered(timeout=90)
        finally:
            stop(second)
    finally:
        stop(first)
    bodies = by_id(receiver.received)
    expected = set(WebhookDelivery.objects.values_list("message_id", flat=True))
    assert len(expected) == len(sent)
    assert set(bodies) == expected, "every event arrived, under no other id"
    assert all(len(set(versions)) == 1 for versions in bodies.values()), "a repeat carries the same body"
    repeats = sum(len(v) - 1 for v in bodies.values())
    record("notify_worker_kill", events=len(sent), received=len(receiver.received), at_kill=at_kill, repeats=repeats)


@pytest.mark.postgres
def test_two_workers_share_the_work_without_double_delivery(make_user: Any, receiver: Stand, tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claims between processes are a PostgreSQL test (SQLite admits one writer)")
    Webhook.objects.create(url=receiver.url + "/hook", events=["*"], secret=new_secret())
    sent = messages(make_user, 120)
    database = database_url_for_test()
    workers = [start_worker(database, tmp_path / f"worker{i}.log", WORKER_BATCH_SIZE="5") for i in range(2)]
    try:
        all_delivered(timeout=120)
    finally:
        for process in workers:
            stop(process)
    counts = Counter(post.headers["webhook-id"] for post in receiver.received)
    assert len(counts) == WebhookDelivery.objects.count() >= len(sent)
    assert max(counts.values()) == 1, [k for k, v in counts.items() if v > 1][:5]
    logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(2)]
    record("notify_two_workers", events=WebhookDelivery.objects.count(), duplicates=0)
    assert all("Traceback" not in log for log in logs), logs


@pytest.mark.postgres
def test_the_worker_waits_out_a_database_outage(
    private_postgres: PrivatePostgres,  # noqa: F811
    receiver: Stand,
    tmp_path: Path,
) -> None:
    url = private_postgres.url
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PARLEY_", "DJANGO_"))}
    env["DATABASE_URL"] = url
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = f"""
import django, os, sys
django.setup()
from parley.models import Webhook
from parley.services.conversations import conversation_create_group
from parley.services.messages import message_send
from server.accounts.models import User
step = sys.argv[1]
if step == "setup":
    Webhook.objects.create(url={receiver.url + "/hook"!r}, events=["message.created"], secret="whsec_" + "A" * 43)
    a, b = User.objects.create(username="a"), User.objects.create(username="b")
    conversation_create_group(creator=a, participant_ids=[b.pk], title="t")
else:
    a = User.objects.get(username="a")
    from parley.models import Conversation
    for n in range(5):
        message_send(sender=a, conversation_id=Conversation.objects.get().pk, content=step + str(n))
"""
    env["DJANGO_SETTINGS_MODULE"] = "server.settings"

    def run(step: str) -> None:
        subprocess.run([sys.executable, "-c", script, step], cwd=ROOT, env=env, check=True)

    run("setup")
    run("before")
    worker = start_worker(url, tmp_path / "worker.log")
    try:
        receiver.wait_for(5, timeout=30)
        assert len(receiver.received) == 5
        private_postgres.stop()
        time.sleep(4)
        assert worker.poll() is None, "the worker stays up while the database is away"
        private_postgres.start()
        run("after")
        receiver.wait_for(10, timeout=60)
    finally:
        stop(worker)
    log = (tmp_path / "worker.log").read_text()
    assert len(by_id(receiver.received)) == 10
    assert "database unavailable" in log
    record("notify_database_outage", delivered=10, waits=log.count("database unavailable"))

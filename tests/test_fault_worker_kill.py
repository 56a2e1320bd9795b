"""Worker processes killed mid-request, many times over: nothing acknowledged is lost.

`gunicorn` with two Parley workers (as `make serve-prod` runs it) on the test database.
Four clients send messages, a third of them with a file, each with a client_id; a
request that fails (connection reset, timeout, 5xx) is retried with the same client_id
until it is acknowledged. Meanwhile a killer sends SIGKILL to a random worker every
few hundred milliseconds; the master starts a new one.

Promises: every acknowledged client_id is stored exactly once (0 lost, 0 duplicated);
`manage.py cleanup_attachments --min-age 0` then leaves exactly the files that
messages refer to (0 orphans, none missing).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.models import Message
from parley.services.conversations import conversation_create_group
from tests.figures import record
from tests.gunicornstack import children_of
from tests.livestack import ROOT, LiveStack, free_port, live_stack, wait_for  # noqa: F401
from tests.ws import token_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RUN_SECONDS = 20.0
CLIENTS = 4


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_killed_workers_lose_nothing_acknowledged(live_stack: LiveStack, make_user: Any) -> None:  # noqa: F811
    port = free_port()
    env = {
        **live_stack.base_env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "RATE_LIMITS_ENABLED": "false",
    }
    log_path = live_stack.workdir / "gunicorn.log"
    with log_path.open("ab") as log:
        master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "server.asgi:application", "-c", "server/gunicorn.py"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(url + "/api/auth/me/", timeout=1).status_code == 401
        except httpx.HTTPError:
            return False

    try:
        wait_for(answers, timeout=30, what="gunicorn")
        members = [make_user(f"member{i}") for i in range(CLIENTS)]
        group = conversation_create_group(creator=members[0], title="busy", participant_ids=[u.pk for u in members])
        stop_at = time.monotonic() + RUN_SECONDS
        acked: dict[str, int] = {}
        attempts: Counter[str] = Counter()
        failures: Counter[str] = Counter()
        refused: list[str] = []
        lock = threading.Lock()

        def client(index: int) -> None:
            token = token_for(members[index])
            rng = random.Random(index)
            n = 0
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
                while time.monotonic() < stop_at:
                    n += 1
                    key = f"c{index}-{n}"
                    with_file = n % 3 == 0
                    for _ in range(50):
                        with lock:
                            attempts[key] += 1
                        try:
                            if with_file:
                                data = rng.randbytes(200_000)
                                response = http.post(
                                    f"/api/chat/conversations/{group.pk}/send_message/",
                                    data={"content": key, "client_id": key},
                                    files={"attachment": (f"{key}.bin", data, "application/octet-stream")},
                                )
                            else:
                                response = http.post(
                                    f"/api/chat/conversations/{group.pk}/send_message/",
                                    json={"content": key, "client_id": key},
                                )
                        except httpx.HTTPError as exc:
                            with lock:
                                failures[type(exc).__name__] += 1
                            time.sleep(0.05)
                            continue
                        if response.status_code == 201:
                            with lock:
                                acked[key] = response.json()["id"]
                            break
                        with lock:
                            failures[str(response.status_code)] += 1
                            if response.status_code < 500:  # a client error is a bug, not a fault
                                refused.append(f"{key}: {response.status_code} {response.text[:200]}")
                        if response.status_code < 500:
                            break
                        time.sleep(0.05)

        kills = 0

        def killer() -> None:
            nonlocal kills
            rng = random.Random(1)
            while time.monotonic() < stop_at - 1:
                time.sleep(rng.uniform(0.3, 0.8))
                workers = children_of(master.pid)
                if workers:
                    try:
                        os.kill(rng.choice(workers), signal.SIGKILL)
                        kills += 1
                    except ProcessLookupError:
                        pass

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
        threads.append(threading.Thread(target=killer, daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(RUN_SECONDS + 120)
        assert not any(t.is_alive() for t in threads), "a client hung"
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(20)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait(5)

    rows = list(Message.objects.filter(conversation_id=group.pk).values_list("client_id", "id", "attachment"))
    stored = Counter(key for key, _, _ in rows)
    lost = [key for key, message_id in acked.items() if stored.get(key) != 1]
    duplicated = [key for key, count in stored.items() if count > 1]
    unacknowledged_stored = [key for key in stored if key not in acked]
    seqs = sorted(Message.objects.filter(conversation_id=group.pk).values_list("seq", flat=True))

    media = live_stack.workdir / "media" / "attachments"
    referenced = {name for _, _, name in rows if name}
    on_disk_before = files_under(media)
    orphans_before = on_disk_before - referenced
    cleanup = subprocess.run(
        [sys.executable, "manage.py", "cleanup_attachments", "--min-age", "0"],
        cwd=ROOT,
        env=live_stack.base_env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    on_disk_after = files_under(media)

    record(
        "fault_worker_kill",
        run_seconds=RUN_SECONDS,
        workers_killed=kills,
        sends_acknowledged=len(acked),
        attempts=sum(attempts.values()),
        retried_sends=sum(1 for n in attempts.values() if n > 1),
        failures_seen_by_clients=dict(failures),
        lost=len(lost),
        duplicated=len(duplicated),
        stored_but_never_acknowledged=len(unacknowledged_stored),
        seq_gapless=seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True,
        orphan_files_before_cleanup=len(orphans_before),
        orphan_files_after_cleanup=len(on_disk_after - referenced),
        referenced_files_missing=len(referenced - on_disk_after),
        cleanup_output=cleanup.stdout.strip(),
    )
    assert kills >= 10, f"only {kills} workers killed; the test proves little"
    assert refused == [], refused[:5]
    assert lost == [] and duplicated == []
    assert unacknowledged_stored == []  # every client retried until acknowledged
    assert on_disk_after == referenced
    assert seqs == list(range(1, len(seqs) + 1))

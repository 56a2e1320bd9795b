"""Notifications: what a burst into a 1,000-member conversation costs (SPEC 12).

    DATABASE_URL=postgres://... python -m bench.notify [--members 1000] [--messages 200]
    python -m bench.notify                      (SQLite file under var/bench/)
    python -m bench.notify --send-ab            the send path with and without its outbox write

`--send-ab` sends into a direct conversation (S1's shape) through `message_send`, in
interleaved blocks of 50 (in ABBA order), alternating the send statement with its outbox step and the
same statement without it (on SQLite the outbox INSERT swapped for a bare SELECT), so
that the machine's load drifts over both alike; prints the median ms per send of each.

Migrates an empty database, makes a group of `--members` (every member but the sender
with a Web Push subscription pointing at a local push-service stand-in, and one webhook
for every event at a local receiver), then sends `--messages` messages through the
real send path (`message_send`) and runs the worker's steps as `parley_worker` does.
Prints one JSON object:

    outbox_rows_per_message      rows the send path wrote to the outbox, per message
    send_ms_p50 / send_ms_p99    the send path on its own, per message (no HTTP)
    fanout_seconds, fanout_events_per_s      outbox -> deliveries and pending pushes
    pending_push_rows            rows after the burst (bounded by the members, not messages)
    pushes_sent, push_seconds, pushes_per_s  encrypted pushes to the stand-in
    webhooks_sent, webhook_seconds, webhooks_per_s
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
ROOT = Path(__file__).resolve().parents[1]
if "DATABASE_URL" not in os.environ:
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    db = ROOT / "var" / "bench" / "notify.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

sys.path.insert(0, str(ROOT))
from parley.models import OutboxEntry, PendingPush, PushSubscription, Webhook, WebhookDelivery  # noqa: E402
from parley.notify.webhooks import new_secret  # noqa: E402
from parley.notify.webpush import generate_keys  # noqa: E402
from parley.services import deliveries, outbox  # noqa: E402
from parley.services.conversations import conversation_create_group  # noqa: E402
from parley.services.messages import message_send  # noqa: E402
from server.accounts.models import User  # noqa: E402
from tests.notifystands import Browser, Stand, serve  # noqa: E402


def send_ab(rounds: int = 20, block: int = 50) -> dict[str, object]:
    import parley.services.sending as sending

    alice, bob = User.objects.bulk_create([User(username="ab-a", password="!"), User(username="ab-b", password="!")])
    conversation = conversation_create_group(creator=alice, participant_ids=[bob.pk], title="ab")
    outbox_cte = f"    outbox AS ({sending._OUTBOX} SELECT id, %(now)s FROM event),\n"  # noqa: S608 - a constant
    assert outbox_cte in sending._PG_WRITE
    variants = {
        "with_outbox": (sending._PG_WRITE, sending._SQLITE_INSERT_OUTBOX),
        "without_outbox": (sending._PG_WRITE.replace(outbox_cte, ""), "SELECT %(event)s"),
    }
    per_send: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(rounds):
        order = list(variants.items())
        for name, (pg_write, sqlite_outbox) in order if round_ % 2 else order[::-1]:  # ABBA: no order bias
            sending._PG_WRITE, sending._SQLITE_INSERT_OUTBOX = pg_write, sqlite_outbox
            started = time.perf_counter()
            for n in range(block):
                message_send(sender=alice, conversation_id=conversation.pk, content=f"ab {n}")
            per_send[name].append((time.perf_counter() - started) * 1000 / block)
    sending._PG_WRITE, sending._SQLITE_INSERT_OUTBOX = variants["with_outbox"]
    medians = {name: round(statistics.median(values), 3) for name, values in per_send.items()}
    return {
        "send_ms_with_outbox": medians["with_outbox"],
        "send_ms_without_outbox": medians["without_outbox"],
        "rate_ratio_with_over_without": round(medians["without_outbox"] / medians["with_outbox"], 3),
        "sends_each": rounds * block,
    }


def main() -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # as parley_worker does
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--send-ab", action="store_true")
    args = parser.parse_args()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    if args.send_ab:
        settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS_ENABLED": False}
        print(json.dumps({"database": connection.vendor, **send_ab(), "load_average": os.getloadavg()[0]}))
        return
    private, public = generate_keys()
    settings.PARLEY = {
        **settings.PARLEY,
        "VAPID_PRIVATE_KEY": private,
        "VAPID_PUBLIC_KEY": public,
        "NOTIFY_ALLOW_PRIVATE_ADDRESSES": True,
        "PUSH_COALESCE_SECONDS": 0,
        "RATE_LIMITS_ENABLED": False,
        "WORKER_BATCH_SIZE": 100,
    }
    users = User.objects.bulk_create([User(username=f"n{i}", password="!") for i in range(args.members)])
    sender = users[0]
    group = conversation_create_group(creator=sender, participant_ids=[u.pk for u in users[1:]], title="big")
    with serve(Stand(script=[201])) as push_service, serve(Stand(script=[200])) as receiver:
        browser = Browser()
        keys = browser.subscription("x")["keys"]
        PushSubscription.objects.bulk_create(
            [
                PushSubscription(
                    user=u, endpoint=f"{push_service.url}/p/{u.pk}", p256dh=keys["p256dh"], auth=keys["auth"]
                )
                for u in users[1:]
            ]
        )
        Webhook.objects.create(url=receiver.url + "/hook", events=["message.created"], secret=new_secret())
        OutboxEntry.objects.all().delete()
        times = []
        for n in range(args.messages):
            started = time.perf_counter()
            message_send(sender=sender, conversation_id=group.pk, content=f"burst {n} @n5")
            times.append((time.perf_counter() - started) * 1000)
        outbox_rows = OutboxEntry.objects.count()

        started = time.perf_counter()
        drained = 0
        while (count := outbox.outbox_drain()) > 0:
            drained += count
        fanout = time.perf_counter() - started
        pending = PendingPush.objects.count()

        started = time.perf_counter()
        pushed = 0
        while (count := deliveries.pushes_send_due()) > 0:
            pushed += count
        push_seconds = time.perf_counter() - started

        started = time.perf_counter()
        hooks = 0
        while (count := deliveries.webhooks_send_due()) > 0:
            hooks += count
        hook_seconds = time.perf_counter() - started
        assert WebhookDelivery.objects.filter(status="delivered").count() == args.messages
        received_pushes = len(push_service.received)
    times.sort()
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "members": args.members,
                "messages": args.messages,
                "outbox_rows_per_message": outbox_rows / args.messages,
                "send_ms_p50": round(statistics.median(times), 2),
                "send_ms_p99": round(times[int(len(times) * 0.99) - 1], 2),
                "fanout_seconds": round(fanout, 2),
                "fanout_events_per_s": round(drained / fanout, 1),
                "pending_push_rows": pending,
                "pushes_sent": received_pushes,
                "push_seconds": round(push_seconds, 2),
                "pushes_per_s": round(received_pushes / push_seconds, 1),
                "webhooks_sent": hooks,
                "webhook_seconds": round(hook_seconds, 2),
                "webhooks_per_s": round(hooks / hook_seconds, 1),
                "load_average": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()

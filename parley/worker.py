"""The notification worker: `manage.py parley_worker` (`make worker`), its own process.

One loop, three steps a round, each a service (parley.services):

    outbox_drain        outbox rows -> webhook deliveries and pending pushes
    webhooks_send_due   due deliveries -> signed POSTs, retries, the delivery log
    pushes_send_due     due pending pushes -> one Web Push per subscription

Any number of workers, on any number of hosts, share the work: every step claims its
rows (SKIP LOCKED on PostgreSQL; SQLite's single writer in the embedded mode). While
the database is away the loop waits (1 s doubling to 30 s) and resumes; SIGTERM and
SIGINT finish the round in progress and stop.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection

from parley.conf import parley_settings
from parley.services import deliveries, outbox

logger = logging.getLogger("parley.worker")

STEPS: tuple[tuple[str, Callable[[], int]], ...] = (
    ("outbox", lambda: outbox.outbox_drain()),
    ("webhooks", lambda: deliveries.webhooks_send_due()),
    ("pushes", lambda: deliveries.pushes_send_due()),
)
MAX_BACKOFF = 30.0


@dataclass
class Totals:
    rounds: int = 0
    done: dict[str, int] = field(default_factory=lambda: {name: 0 for name, _ in STEPS})
    database_waits: int = 0


def run_round(totals: Totals) -> int:
    """One pass over every step; returns the rows handled."""
    handled = 0
    for name, step in STEPS:
        count = step()
        totals.done[name] += count
        handled += count
    totals.rounds += 1
    return handled


def run(*, stop: threading.Event, until_idle: bool = False) -> Totals:
    """Work until `stop` is set (or, with `until_idle`, until a round finds nothing)."""
    totals = Totals()
    backoff = 1.0
    while not stop.is_set():
        try:
            handled = run_round(totals)
            backoff = 1.0
        except (OperationalError, InterfaceError, DatabaseError) as failed:
            totals.database_waits += 1
            logger.warning("database unavailable (%s); retrying in %.0f s", type(failed).__name__, backoff)
            with contextlib.suppress(DatabaseError):
                connection.close()
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        except Exception:
            logger.exception("worker round failed; retrying in %.0f s", backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        finally:
            close_old_connections()
        if handled == 0:
            if until_idle:
                break
            stop.wait(float(parley_settings.WORKER_POLL_SECONDS))
    return totals


def install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum: int, frame: object) -> None:
        logger.info("worker stopping (signal %s)", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)

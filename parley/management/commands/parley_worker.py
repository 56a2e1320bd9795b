"""`manage.py parley_worker`: deliver webhooks and Web Push from the outbox (parley.worker)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.core.management.base import BaseCommand

from parley import worker


class Command(BaseCommand):
    help = "Drain the notification outbox: webhooks and Web Push. Run one or more per deployment."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--until-idle", action="store_true", help="Stop once a round finds nothing to do.")

    def handle(self, *args: Any, **options: Any) -> None:
        # httpx logs every request at INFO with its URL; push endpoints are capabilities
        # and webhook URLs may carry tokens, so they stay out of the logs.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        stop = threading.Event()
        worker.install_signal_handlers(stop)
        self.stderr.write("parley_worker: draining the notification outbox (Ctrl-C or SIGTERM stops)")
        totals = worker.run(stop=stop, until_idle=options["until_idle"])
        self.stderr.write(f"parley_worker: stopped after {totals.rounds} rounds, handled {totals.done}")

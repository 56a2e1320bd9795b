"""Delete durable events older than N days (the catch-up log), keeping each
conversation's latest. A client that reconnects with a `since` older than what is
left is told `resync_required` and reloads (parley.retention); run it daily with N
at least the longest absence after which a client should still catch up silently."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from parley.retention import events_prune


class Command(BaseCommand):
    help = "Delete events older than --older-than-days (each conversation keeps its latest)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--older-than-days", type=int, required=True)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, older_than_days: int, dry_run: bool, **options: Any) -> None:
        if older_than_days < 1:
            raise CommandError("--older-than-days must be at least 1.")
        cutoff = timezone.now() - timedelta(days=older_than_days)
        count = events_prune(older_than=cutoff, dry_run=dry_run)
        self.stdout.write(f"{'would delete' if dry_run else 'deleted'} {count} event(s) older than {cutoff:%Y-%m-%d}")

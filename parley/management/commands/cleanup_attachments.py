"""Remove attachment files that no message refers to, on any storage backend.

A file is written before its message's transaction (so no disk write happens under
the conversation lock); a process killed in between leaves an orphan. Files younger
than `--min-age` seconds are kept, since their transaction may still be running.
The storage is walked with `listdir` (parley.retention), so object storage (S3) is
swept as the local filesystem is.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from parley.retention import attachments_orphaned


class Command(BaseCommand):
    help = "Delete orphan attachment files."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--min-age", type=int, default=3600, help="Keep files younger than this (seconds).")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, min_age: int, dry_run: bool, **options: Any) -> None:
        removed = attachments_orphaned(min_age_seconds=min_age, dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        self.stdout.write(f"{verb} {removed} orphan file(s)")

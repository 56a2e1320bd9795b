"""Remove attachment files that no message refers to.

A file is written before its message's transaction (so no disk write happens under
the conversation lock); a process killed in between leaves an orphan. Files younger
than `--min-age` seconds are kept, since their transaction may still be running.
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand

from parley.models import Message
from parley.storage import attachment_storage


class Command(BaseCommand):
    help = "Delete orphan attachment files."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--min-age", type=int, default=3600, help="Keep files younger than this (seconds).")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, min_age: int, dry_run: bool, **options: Any) -> None:
        root = attachment_storage.location
        referenced = set(Message.objects.exclude(attachment="").values_list("attachment", flat=True))
        cutoff = time.time() - min_age
        removed = 0
        for directory, _, files in os.walk(root):
            for name in files:
                path = os.path.join(directory, name)
                relative = os.path.relpath(path, root).replace(os.sep, "/")
                if relative in referenced or os.path.getmtime(path) > cutoff:
                    continue
                removed += 1
                if not dry_run:
                    os.remove(path)
        verb = "would remove" if dry_run else "removed"
        self.stdout.write(f"{verb} {removed} orphan file(s)")

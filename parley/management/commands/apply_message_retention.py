"""Delete messages older than PARLEY["MESSAGE_RETENTION_DAYS"] (CHAT_MESSAGE_RETENTION_DAYS
in the standalone server), with their files and their events, for deployments that
must not keep chat history forever. Without the setting it refuses to run: retention
is a decision, never a default."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from parley.conf import parley_settings
from parley.retention import messages_expire


class Command(BaseCommand):
    help = 'Delete messages older than PARLEY["MESSAGE_RETENTION_DAYS"].'

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        days = parley_settings.MESSAGE_RETENTION_DAYS
        if not days:
            raise CommandError('PARLEY["MESSAGE_RETENTION_DAYS"] is not set: no message retention to apply.')
        if int(days) < 1:
            raise CommandError('PARLEY["MESSAGE_RETENTION_DAYS"] must be at least 1.')
        cutoff = timezone.now() - timedelta(days=int(days))
        expired = messages_expire(older_than=cutoff, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(
            f"{verb} {expired.messages} message(s), {expired.files} file(s) and {expired.events} event(s) "
            f"older than {cutoff:%Y-%m-%d}"
        )

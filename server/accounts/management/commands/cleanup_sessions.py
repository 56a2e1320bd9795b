"""Remove revoked-session records that can no longer matter: older than the refresh
token lifetime (plus a day), every token of such a session has expired anyway."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from server.accounts.models import RevokedSession


class Command(BaseCommand):
    help = "Delete revoked-session records past the refresh token lifetime."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        expired = timezone.now() - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] - timedelta(days=1)
        sessions = RevokedSession.objects.filter(revoked_at__lt=expired)
        count = sessions.count() if dry_run else sessions.delete()[0]
        self.stdout.write(f"{'would remove' if dry_run else 'removed'} {count} expired session record(s)")

"""`manage.py parley_vapid_keys`: a new VAPID key pair for Web Push, as environment lines."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from parley.notify.webpush import generate_keys


class Command(BaseCommand):
    help = "Print a new VAPID key pair (VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY) for the environment."

    def handle(self, *args: Any, **options: Any) -> None:
        private, public = generate_keys()
        self.stdout.write(f"VAPID_PRIVATE_KEY={private}\nVAPID_PUBLIC_KEY={public}\n")

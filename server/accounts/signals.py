"""Deactivating a user (admin, shell or service) closes their live connections."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from server.accounts.models import User


@receiver(post_save, sender=User)
def close_sockets_of_deactivated_user(sender: type[User], instance: User, **kwargs: Any) -> None:
    if instance.is_active:
        return
    from parley import events

    user_id = instance.pk
    transaction.on_commit(lambda: events.publish_user_revoked(user_id=user_id, reason="deactivated"))

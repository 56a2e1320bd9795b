"""Parley follows the host's user model: a user deactivated or deleted, by the host's
code, its admin or a shell, loses their sockets at once (SPEC section 3). After every
`migrate`, the SQLite search triggers a table rebuild may have dropped are put back
(parley.searchindex). A user about to be deleted first leaves their conversations
through the services (SPEC 11)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models.signals import post_delete, post_migrate, post_save, pre_delete

from parley.searchindex import sqlite_triggers_ensure
from parley.services.users import user_conversations_leave, user_sockets_close


def _closes_sockets_of_deactivated_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    if getattr(instance, "is_active", True) is False:
        user_sockets_close(user_id=instance.pk, reason="deactivated")


def _leaves_conversations_before_deletion(sender: Any, instance: Any, **kwargs: Any) -> None:
    with transaction.atomic():  # the deletion's own transaction, when it has one
        user_conversations_leave(user_id=instance.pk)


def _closes_sockets_of_deleted_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    user_sockets_close(user_id=instance.pk, reason="deleted")


def _search_triggers_restored(sender: Any, using: str = "default", **kwargs: Any) -> None:
    if getattr(sender, "label", None) == "parley":
        sqlite_triggers_ensure(connections[using])


def connect() -> None:
    post_migrate.connect(_search_triggers_restored, dispatch_uid="parley.search_triggers", weak=False)
    post_save.connect(_closes_sockets_of_deactivated_user, sender=settings.AUTH_USER_MODEL, weak=False)
    pre_delete.connect(_leaves_conversations_before_deletion, sender=settings.AUTH_USER_MODEL, weak=False)
    post_delete.connect(_closes_sockets_of_deleted_user, sender=settings.AUTH_USER_MODEL, weak=False)

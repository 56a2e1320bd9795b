"""The host's users as Parley sees them: any AUTH_USER_MODEL, any primary key type.

Parley never adds a field to the user model. It needs three things of a user:
- its primary key, written on the wire as a JSON number (integer keys) or a string
  (UUID and other keys): `wire_id`;
- a display name for `sender_name` and member lists: `PARLEY["DISPLAY_NAME"]`;
- `is_active`, which every authenticated path checks.

A deleted user's messages stay, with `sender: null` and the name `DELETED_USER_NAME`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, TypeAlias

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from parley.common.errors import InvalidInput
from parley.conf import parley_settings

# For annotations: whatever AUTH_USER_MODEL is. django-stubs types every foreign key to
# the user model as the one concrete model of the settings mypy runs with, which a
# reusable app cannot name; Any keeps the rest of the core checked.
User: TypeAlias = Any
DELETED_USER_NAME = "deleted user"


def username_of(user: Any) -> str:
    """The default display name: the USERNAME_FIELD's value."""
    return str(user.get_username())


def display_name(user: Any | None) -> str:
    if user is None:
        return DELETED_USER_NAME
    return str(parley_settings.callable("DISPLAY_NAME")(user))


@functools.cache
def _default_name_column() -> str:
    return get_user_model().USERNAME_FIELD


def name_column() -> str | None:
    """The user column that is the display name when the default callable is configured,
    so hot reads select it in their query; None when a custom callable must run."""
    configured = parley_settings.DISPLAY_NAME
    if configured in ("parley.users.username_of", username_of):
        return _default_name_column()
    return None


def display_names(user_ids: Iterable[Any]) -> dict[Any, str]:
    """Display names of many users in one query (for a custom DISPLAY_NAME). A callable
    with a `many(user_ids) -> {pk: name}` method answers for all of them at once
    (e.g. parley.identities.display_name, whose names live beside the user row)."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    many = getattr(parley_settings.callable("DISPLAY_NAME"), "many", None)
    if many is not None:
        return dict(many(ids))
    users = get_user_model()._default_manager.filter(pk__in=ids)
    return {user.pk: display_name(user) for user in users}


def wire_id(pk: Any) -> Any:
    """A user id as JSON carries it: integers stay numbers, anything else is a string."""
    if pk is None or isinstance(pk, int):
        return pk
    return str(pk)


def parse_user_id(value: Any, *, field: str) -> Any:
    """A non-integer user id (a UUID's text from a client, or a key object from Python),
    converted to the primary key's type, or a 400. JSON numbers, lists and objects are
    refused: a UUID field would turn an int into a UUID."""
    if isinstance(value, bool | int | float | list | dict) or value is None:
        raise InvalidInput("Must be a user id.", field=field, code="invalid_id")
    if isinstance(value, str):
        value = value.strip()
        if not value or len(value) > 255:
            raise InvalidInput("Must be a user id.", field=field, code="invalid_id")
    try:
        return get_user_model()._meta.pk.to_python(value)  # type: ignore[union-attr]
    except (ValidationError, TypeError, ValueError, OverflowError):
        raise InvalidInput("Must be a user id.", field=field, code="invalid_id") from None


def user_db_value(pk: Any) -> Any:
    """A user id as a bound SQL parameter (a UUID is text on SQLite, uuid on PostgreSQL)."""
    if isinstance(pk, int):
        return pk
    return get_user_model()._meta.pk.get_db_prep_value(pk, connection)  # type: ignore[union-attr]


def pk_is_integer() -> bool:
    return get_user_model()._meta.pk.get_internal_type() in {  # type: ignore[union-attr]
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
    }

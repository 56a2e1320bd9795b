"""The host's users by the host's own ids: reads, input rules and display names.

An `ExternalIdentity` ties the host's id for a user (a trusted token's `sub`, the
`{external_id}` of /api/server/users/) to a row of AUTH_USER_MODEL. Writes are in
parley.services.identities; this module only reads.

`display_name` is the DISPLAY_NAME callable for deployments whose users come from a
host (the standalone server sets it when trusted tokens or the API key are on): the
name the host gave, else the username. Its `many` form names a page of users in one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F

from parley.common.errors import InvalidInput, NotFound
from parley.models import ExternalIdentity
from parley.users import User, wire_id

MAX_EXTERNAL_ID_LENGTH = 255
MAX_DISPLAY_NAME_LENGTH = 255


def clean_external_id(value: object, *, field: str = "external_id") -> str:
    """The host's id as given: a string of 1..255 printable characters, kept exactly
    (ids are opaque: no trimming, no case folding)."""
    if not isinstance(value, str) or not value:
        raise InvalidInput("Must be a non-empty string (the host's user id).", field=field, code="invalid_external_id")
    if len(value) > MAX_EXTERNAL_ID_LENGTH:
        raise InvalidInput(f"At most {MAX_EXTERNAL_ID_LENGTH} characters.", field=field, code="invalid_external_id")
    if not value.isprintable():  # NUL and control characters: PostgreSQL refuses NUL in text
        raise InvalidInput("Control characters are not allowed.", field=field, code="invalid_external_id")
    return value


def clean_display_name(value: object, *, field: str = "display_name") -> str:
    if not isinstance(value, str):
        raise InvalidInput("Must be a string.", field=field, code="invalid_type")
    value = value.strip()
    if len(value) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidInput(f"At most {MAX_DISPLAY_NAME_LENGTH} characters.", field=field, code="too_long")
    if not value.isprintable():
        raise InvalidInput("Control characters are not allowed.", field=field, code="invalid_characters")
    return value


def identity_get(*, external_id: str) -> ExternalIdentity:
    """The identity with its user loaded, or 404 `unknown_user`."""
    identity = ExternalIdentity.objects.select_related("user").filter(external_id=external_id).first()
    if identity is None:
        raise NotFound("No user with that external id.", code="unknown_user")
    return identity


def users_by_external_id(external_ids: list[str], *, field: str) -> dict[str, User]:
    """Active users for the given external ids, in one query; 400 `unknown_user` naming
    every id that has no active user."""
    found = {
        identity.external_id: identity.user
        for identity in ExternalIdentity.objects.select_related("user").filter(
            external_id__in=external_ids, user__is_active=True
        )
    }
    missing = [external_id for external_id in external_ids if external_id not in found]
    if missing:
        raise InvalidInput(f"No active user: {', '.join(missing)}.", field=field, code="unknown_user")
    return found


def identity_json(identity: ExternalIdentity) -> dict[str, Any]:
    user = identity.user
    return {
        "id": wire_id(user.pk),
        "external_id": identity.external_id,
        "username": user.get_username(),
        "display_name": identity.display_name,
        "is_active": bool(user.is_active),
    }


class DisplayName:
    """PARLEY["DISPLAY_NAME"] = "parley.identities.display_name"."""

    def __call__(self, user: User) -> str:
        try:
            given = user.parley_identity.display_name
        except ExternalIdentity.DoesNotExist:  # the server's own accounts, a host's other users
            given = ""
        return str(given or user.get_username())

    def many(self, user_ids: Iterable[Any]) -> dict[Any, str]:
        """Names of many users in one query (parley.users.display_names)."""
        model = get_user_model()
        rows = model._default_manager.filter(pk__in=list(user_ids)).values_list(
            "pk", F(model.USERNAME_FIELD), F("parley_identity__display_name")
        )
        return {pk: str(given or username) for pk, username, given in rows}


display_name = DisplayName()

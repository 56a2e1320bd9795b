"""Users the host owns: provisioned on first sight, upserted, deactivated, erased.

Works on any AUTH_USER_MODEL: a new user gets its USERNAME_FIELD set to a unique value
(the one the host asked for, or one derived from the display name or a digest of the
external id, never the id itself, which may be an e-mail address) that passes the
field's own validators, and an unusable password; the host's id and display name live
in parley.ExternalIdentity beside it.

Concurrency: the unique external id decides. Two requests provisioning the same id at
once both try to insert; the loser's savepoint rolls back (its user row with it) and it
returns the winner's identity, so one host user is never two Parley users.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, transaction

from parley.common.errors import InvalidInput, NotAuthenticated
from parley.identities import clean_display_name, clean_external_id, identity_get
from parley.models import Conversation, ExternalIdentity, Membership
from parley.services.members import member_remove
from parley.services.users import user_sockets_close
from parley.users import User

UPSERT_FIELDS = ("username", "display_name", "is_active")
_NOT_USERNAME = re.compile(r"[^\w.@+-]+")


def identity_provision(*, external_id: str, name: str | None) -> User:
    """The active user behind a trusted token's `sub`, created on first sight. A `name`
    that differs from the stored display name replaces it (the host is the source).
    An existing but deactivated user is refused (401)."""
    identity = ExternalIdentity.objects.select_related("user").filter(external_id=external_id).first()
    if identity is None:
        identity, _ = _identity_create(external_id=external_id, username=None, display_name=name or "")
    elif name and name != identity.display_name:
        ExternalIdentity.objects.filter(pk=identity.pk).update(display_name=name)
        identity.display_name = name
    if not identity.user.is_active:
        raise NotAuthenticated("User is inactive or does not exist.", code="user_inactive")
    return identity.user


def identity_upsert(*, external_id: object, data: object) -> tuple[ExternalIdentity, bool]:
    """Create or update the user the host calls `external_id`: `(identity, created)`.

    `data` may hold `username`, `display_name` and `is_active`; an omitted field keeps
    its value (a new user: a derived username, an empty display name, active). Any
    other field, a taken username or a malformed value is a 400 and nothing is stored.
    Deactivation closes the user's sockets after commit.
    """
    eid = clean_external_id(external_id)
    changes = _clean_upsert(data)
    for _attempt in range(3):
        with transaction.atomic():
            identity = (
                ExternalIdentity.objects.select_for_update().select_related("user").filter(external_id=eid).first()
            )
            if identity is None:
                identity, created = _identity_create(
                    external_id=eid,
                    username=changes.get("username"),
                    display_name=changes.get("display_name", ""),
                    is_active=changes.get("is_active", True),
                )
                if not created:
                    continue  # a concurrent upsert created it: update it, under the lock
            else:
                created = False
                _identity_update(identity, changes)
            if not identity.user.is_active:
                _publish_revoked_on_commit(identity.user.pk, reason="deactivated")
            return identity, created
    raise IntegrityError("the identity kept changing under the upsert")  # 409 `conflict`: retry


def identity_erase(*, external_id: object) -> None:
    """Delete the user the host calls `external_id`. They leave every group first (the
    groups get `member.removed`, a new admin if they were the last one); their messages
    stay, with `sender: null` ("deleted user"); their sockets close."""
    identity = identity_get(external_id=clean_external_id(external_id))
    user = identity.user
    with transaction.atomic():
        group_ids = list(
            Membership.objects.filter(user=user, conversation__kind=Conversation.Kind.GROUP).values_list(
                "conversation_id", flat=True
            )
        )
        for conversation_id in group_ids:
            member_remove(actor=user, conversation_id=conversation_id, user_id=user.pk)
        _publish_revoked_on_commit(user.pk, reason="deleted")
        user.delete()


def _publish_revoked_on_commit(user_id: Any, *, reason: str) -> None:
    """Close the user's sockets once the change is committed (never for a rolled-back one)."""
    user_sockets_close(user_id=user_id, reason=reason)


# --- Input ------------------------------------------------------------------------------------


def _clean_upsert(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.", code="invalid_body")
    unknown = sorted(set(data) - set(UPSERT_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown field(s): {', '.join(map(str, unknown))}.", code="unknown_field")
    changes: dict[str, Any] = {}
    if "username" in data:
        changes["username"] = _clean_username(data["username"])
    if "display_name" in data:
        changes["display_name"] = clean_display_name(data["display_name"])
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            raise InvalidInput("Must be true or false.", field="is_active", code="invalid_type")
        if not data["is_active"] and not _has_active_flag():
            raise InvalidInput("This user model cannot be deactivated.", field="is_active", code="unsupported")
        changes["is_active"] = data["is_active"]
    return changes


def _username_field() -> Any:
    model = get_user_model()
    return model._meta.get_field(model.USERNAME_FIELD)


def _has_active_flag() -> bool:
    try:
        get_user_model()._meta.get_field("is_active")
    except FieldDoesNotExist:
        return False
    return True


def _clean_username(value: object) -> str:
    """The host's choice, checked by the user model's own field (length, characters, e-mail...)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("Must be a non-empty string.", field="username", code="invalid_username")
    if not value.isprintable():
        raise InvalidInput("Control characters are not allowed.", field="username", code="invalid_username")
    try:
        return str(_username_field().clean(value.strip(), None))
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="username", code="invalid_username") from exc


def _username_taken(username: str, *, exclude_pk: Any = None) -> bool:
    model = get_user_model()
    users = model._default_manager.filter(**{model.USERNAME_FIELD: username})
    if exclude_pk is not None:
        users = users.exclude(pk=exclude_pk)
    return users.exists()


def _derived_usernames(*, external_id: str, display_name: str) -> Iterator[str]:
    """Valid, currently free usernames to try in turn."""
    field = _username_field()
    limit = field.max_length or 150
    digest = hashlib.sha256(external_id.encode()).hexdigest()
    base = _NOT_USERNAME.sub("_", display_name).strip("_.") or f"user-{digest[:10]}"
    candidates = [
        base[:limit],
        f"{base[: limit - 7]}-{digest[:6]}",
        f"{base[: limit - 13]}-{digest[:12]}",
        f"user-{digest[:24]}"[:limit],
        f"user-{digest[:24]}@users.parley.invalid",  # a USERNAME_FIELD that is an e-mail address
        *(f"{base[: limit - 9]}-{secrets.token_hex(4)}" for _ in range(3)),
    ]
    for candidate in dict.fromkeys(candidates):
        try:
            cleaned = str(field.clean(candidate, None))
        except ValidationError:
            continue
        if not _username_taken(cleaned):
            yield cleaned


def _identity_create(
    *, external_id: str, username: str | None, display_name: str, is_active: bool = True
) -> tuple[ExternalIdentity, bool]:
    """A new user and its identity, or the identity a concurrent request just created."""
    if username is not None and _username_taken(username):
        raise InvalidInput("A user with that username already exists.", field="username", code="username_taken")
    candidates = (
        [username] if username is not None else _derived_usernames(external_id=external_id, display_name=display_name)
    )
    model = get_user_model()
    for candidate in candidates:
        try:
            with transaction.atomic():
                user = model(**{model.USERNAME_FIELD: candidate})
                user.set_unusable_password()
                if not is_active:
                    user.is_active = False
                user.save()
                identity = ExternalIdentity.objects.create(
                    external_id=external_id, user=user, display_name=display_name
                )
                return identity, True
        except IntegrityError:
            # Either the external id (a concurrent first sight: theirs wins) or the
            # username (taken meanwhile: try the next one) was taken.
            existing = ExternalIdentity.objects.select_related("user").filter(external_id=external_id).first()
            if existing is not None:
                return existing, False
            if username is not None:
                raise InvalidInput(
                    "A user with that username already exists.", field="username", code="username_taken"
                ) from None
    raise InvalidInput("No free username could be derived; give one.", field="username", code="username_taken")


def _identity_update(identity: ExternalIdentity, changes: dict[str, Any]) -> None:
    user = identity.user
    fields: list[str] = []
    username = changes.get("username")
    if username is not None and username != user.get_username():
        if _username_taken(username, exclude_pk=user.pk):
            raise InvalidInput("A user with that username already exists.", field="username", code="username_taken")
        setattr(user, get_user_model().USERNAME_FIELD, username)
        fields.append(get_user_model().USERNAME_FIELD)
    if "is_active" in changes and changes["is_active"] != user.is_active:
        user.is_active = changes["is_active"]
        fields.append("is_active")
    if fields:
        try:
            with transaction.atomic():
                user.save(update_fields=fields)
        except IntegrityError as exc:  # a case-insensitive unique constraint, or a race
            raise InvalidInput(
                "A user with that username already exists.", field="username", code="username_taken"
            ) from exc
    if "display_name" in changes and changes["display_name"] != identity.display_name:
        identity.display_name = changes["display_name"]
        identity.save(update_fields=["display_name"])

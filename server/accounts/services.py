"""Account writes: registration, logout, password change, closing an account; the export."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from parley.common.errors import InvalidInput, NotAuthenticated
from parley.selectors.export import user_export_data
from parley.services.users import user_account_close, user_sockets_close
from server.accounts.models import RevokedSession, User
from server.accounts.tokens import SESSION_CLAIM, token_pair_for_user


def user_register(*, username: str, password: str, email: str = "") -> User:
    """Create an active user; the password must pass Django's validators."""
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput("A user with that username already exists.", field="username", code="username_taken")
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password", code="weak_password") from exc
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError as exc:  # a concurrent registration took the name
        raise InvalidInput(
            "A user with that username already exists.", field="username", code="username_taken"
        ) from exc
    return candidate


def session_logout(*, refresh: str) -> None:
    """Blacklist the refresh token and end its session: its access tokens stop working
    and its WebSocket connections close with 4401."""
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # the stubs omit str
    except TokenError as exc:
        raise NotAuthenticated("Refresh token is invalid or expired.", code="token_not_valid") from exc
    user_id = token.get("user_id")
    sid = token.get(SESSION_CLAIM)
    with transaction.atomic():
        token.blacklist()
        if sid and user_id is not None and User.objects.filter(pk=user_id).exists():
            RevokedSession.objects.get_or_create(sid=sid, defaults={"user_id": user_id})
    if sid and user_id is not None:
        user_sockets_close(user_id=user_id, session_id=sid, reason="logout")


def user_change_password(*, user: User, old_password: str, new_password: str) -> dict[str, str]:
    """Change the password, end every session of the user, return a fresh token pair."""
    if not user.check_password(old_password):
        raise InvalidInput("The current password is wrong.", field="old_password", code="wrong_password")
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="new_password", code="weak_password") from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_id = user.pk
    user_sockets_close(user_id=user_id, reason="password_changed")
    return token_pair_for_user(user)


def password_confirm(*, user: User, password: object) -> None:
    """400 `password_required` without a password, `wrong_password` with a wrong one."""
    if not isinstance(password, str) or not password:
        raise InvalidInput("Confirm with your password.", field="password", code="password_required")
    if not user.check_password(password):
        raise InvalidInput("The password is wrong.", field="password", code="wrong_password")


def account_delete(*, user: User, password: object, erase: bool) -> int:
    """`DELETE /api/auth/me/`: password-checked, then parley's account closing (the
    user deactivated, their sockets closed; with `erase`, their messages and files
    gone). Returns how many messages were erased."""
    password_confirm(user=user, password=password)
    return user_account_close(user=user, erase=erase)


def account_export(*, user: User, password: object) -> dict[str, object]:
    """`GET /api/auth/me/export/`: the profile and parley's data of the user."""
    password_confirm(user=user, password=password)
    profile = {"id": user.pk, "username": user.username, "email": user.email, "date_joined": user.date_joined}
    return {"profile": profile, **user_export_data(user_id=user.pk), "exported_at": timezone.now()}

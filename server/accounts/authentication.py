"""DRF authentication: SimpleJWT's header parsing, our token rules (accounts.tokens)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework_simplejwt import authentication

from parley.common.errors import NotAuthenticated
from server.accounts.models import User
from server.accounts.tokens import user_for_validated_token


class JWTAuthentication(authentication.JWTAuthentication):
    def get_user(self, validated_token: Any) -> User:  # type: ignore[override]
        try:
            return user_for_validated_token(validated_token)
        except NotAuthenticated as exc:
            raise exceptions.AuthenticationFailed(exc.detail, code=exc.code) from exc


def current_user(request: Any) -> User:
    """The authenticated caller of a view that requires authentication (the default)."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user

"""Who is on the other end of a socket: the token rule, pluggable by the host.

REST uses the host's DRF authentication classes (parley.api.base). A socket proves
itself with an access token (`?token=` or an `auth` frame) or, behind Channels'
AuthMiddlewareStack, with the host's session cookie. Tokens are checked by
`PARLEY["TOKEN_AUTHENTICATOR"]`; the default accepts the host's own SimpleJWT access
tokens. A socket is asked again by `PARLEY["TOKEN_REVALIDATOR"]` whenever it could have
missed a revocation (its channel layer was down).

With `PARLEY["TRUSTED_JWT"]` set, a token whose issuer is the host's is checked by
parley.trusted first and only there; every other token goes to the authenticator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import exceptions

from parley.common.errors import NotAuthenticated
from parley.conf import parley_settings
from parley.users import User


@dataclass(frozen=True)
class Authenticated:
    user: User
    expires_at: int | None  # unix seconds; None: a session, which has no deadline of its own
    session_id: str | None = None  # the login session a revocation may name
    proof: str | None = None  # what the revalidator compares (e.g. a password fingerprint)
    external_id: str | None = None  # a host-signed token's `sub` (parley.trusted)


def authenticate_token(raw: str) -> Authenticated:
    """The single check behind every token-authenticated socket."""
    from parley import trusted

    if trusted.is_trusted_token(raw):
        return trusted.authenticate_trusted_token(raw)
    result: Authenticated = parley_settings.callable("TOKEN_AUTHENTICATOR")(raw)
    return result


def still_valid(auth: Authenticated) -> bool:
    if auth.external_id is not None:
        from parley import trusted

        return trusted.trusted_still_valid(auth)
    return bool(parley_settings.callable("TOKEN_REVALIDATOR")(auth))


def session_user(user: Any) -> Authenticated:
    """A socket authenticated by the host's session (Channels' AuthMiddlewareStack)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise NotAuthenticated("Authenticate first (auth frame, ?token= or a session).")
    return Authenticated(user=user, expires_at=None)


def simplejwt_authenticate(raw: str) -> Authenticated:
    """The host's SimpleJWT access token, checked by SimpleJWT itself: signature, expiry,
    token type, the user claim (whatever USER_ID_FIELD is), an active user, and the
    revoke claim when the host enabled CHECK_REVOKE_TOKEN."""
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

    authentication = JWTAuthentication()
    try:
        token = authentication.get_validated_token(raw.encode())
        user = authentication.get_user(token)
    except (InvalidToken, TokenError, exceptions.AuthenticationFailed) as exc:
        raise NotAuthenticated("Token is invalid or expired.", code="token_not_valid") from exc
    return Authenticated(user=user, expires_at=int(token["exp"]))  # type: ignore[arg-type]


def user_still_active(auth: Authenticated) -> bool:
    return get_user_model()._default_manager.filter(pk=auth.user.pk, is_active=True).exists()

"""JWTs for HTTP and WebSocket alike: one function decides whether a token is good.

An access token is accepted when its signature, expiry and type are valid, its user
exists and is active, its password fingerprint matches the current password (SimpleJWT's
revoke claim), and its login session (`sid`) has not been logged out.
"""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from parley.auth import Authenticated
from parley.common.errors import NotAuthenticated
from server.accounts.models import User
from server.accounts.selectors import user_with_session_state

SESSION_CLAIM = "sid"


def new_session_refresh_token(user: User) -> RefreshToken:
    """A refresh token opening a new login session; its access tokens inherit the `sid`."""
    refresh = RefreshToken.for_user(user)
    refresh[SESSION_CLAIM] = uuid.uuid4().hex
    return refresh


def token_pair_for_user(user: User) -> dict[str, str]:
    refresh = new_session_refresh_token(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _decode_access(raw: str) -> AccessToken:
    try:
        return AccessToken(raw)  # type: ignore[arg-type]  # the stubs omit str
    except TokenError as exc:
        raise NotAuthenticated("Token is invalid or expired.", code="token_not_valid") from exc


def user_for_validated_token(token: Any) -> User:
    """Load the token's user in one query, with its session's revocation state."""
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if user_id is None:
        raise NotAuthenticated("Token has no user.", code="token_not_valid")
    sid = token.get(SESSION_CLAIM)
    found = user_with_session_state(user_id=user_id, session_id=sid)
    if found is None or not found[0].is_active:
        raise NotAuthenticated("User is inactive or does not exist.", code="user_inactive")
    user, session_revoked = found
    if sid and session_revoked:
        raise NotAuthenticated("This session has been logged out.", code="session_revoked")
    if token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise NotAuthenticated("The password has been changed.", code="password_changed")
    return user


def authenticate_access_token(raw: str) -> Authenticated:
    """The single check behind every authenticated HTTP request and WebSocket."""
    token = _decode_access(raw)
    user = user_for_validated_token(token)
    return Authenticated(
        user=user,
        expires_at=int(token["exp"]),
        session_id=token.get(SESSION_CLAIM),
        proof=token.get(api_settings.REVOKE_TOKEN_CLAIM),  # changes with the password
    )


def session_still_valid(auth: Authenticated) -> bool:
    """Whether what an earlier token proved still holds: the user is active, the session
    was not logged out, the password did not change. For long-lived sockets that cannot
    hear revocations (their channel layer was down)."""
    found = user_with_session_state(user_id=auth.user.pk, session_id=auth.session_id)
    if found is None or not found[0].is_active or (auth.session_id and found[1]):
        return False
    return auth.proof == get_md5_hash_password(found[0].password)

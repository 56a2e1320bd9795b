"""Bearer tokens the host signs, for a Parley that trusts the host's identity (SPEC 9.2).

    PARLEY["TRUSTED_JWT"] = {
        "KEY": "<HS256 secret of 32+ bytes>" or "-----BEGIN PUBLIC KEY----- ...",
        "ALGORITHM": "RS256",          # optional: HS256 for a secret, RS256 / ES256 by the key
        "ISSUER": "https://app.example.com",
        "AUDIENCE": "parley",
        "LEEWAY_SECONDS": 0,           # clock skew allowed on exp / nbf / iat
    }

A token is the host's when its `iss` (read before any check) is ISSUER. Such a token is
checked here and only here, never handed on to the server's own token rule, and is good
when all of these hold, else it is a 401 (REST) or a 4401 close (socket):

    signature   by KEY, with exactly the configured algorithm (never `none`, never
                another one: an HS256 token is refused by an RS256 server, whatever key
                signed it)
    claims      exp (required, in the future), iss == ISSUER, aud contains AUDIENCE,
                nbf / iat not in the future when present
    sub         a string of 1..255 printable characters: the host's user id
    name        optional: a string of at most 255 characters, the display name

The user is `sub`'s, created on first sight (parley.services.identities); a deactivated
one is refused.
"""

from __future__ import annotations

import jwt

from parley.auth import Authenticated
from parley.common.errors import InvalidInput, NotAuthenticated
from parley.conf import parley_settings
from parley.identities import clean_display_name, clean_external_id
from parley.jwtkeys import TrustedKey, parse_trusted_jwt
from parley.models import ExternalIdentity

REQUIRED_CLAIMS = ["exp", "sub", "iss", "aud"]


def trusted_key() -> TrustedKey | None:
    """The configured key, or None when trusted tokens are off. A bad configuration is
    an ImproperlyConfigured error (the standalone server checks it at start-up)."""
    raw = parley_settings.TRUSTED_JWT
    if not raw:
        return None
    return parse_trusted_jwt(raw)


def is_trusted_token(raw: str) -> bool:
    """Whether the token says it is the host's (its `iss` is ISSUER). Nothing is verified
    here: it only decides which rule checks the token."""
    config = trusted_key()
    if config is None:
        return False
    try:
        claims = jwt.decode(raw, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return False
    return isinstance(claims, dict) and claims.get("iss") == config.issuer


def verify_trusted_token(raw: str) -> tuple[str, str | None, int]:
    """`(sub, name, exp)` of a good host token; NotAuthenticated otherwise."""
    config = trusted_key()
    if config is None:
        raise NotAuthenticated("Trusted tokens are not enabled.", code="token_not_valid")
    try:
        claims = jwt.decode(
            raw,
            config.key,
            algorithms=[config.algorithm],
            audience=config.audience,
            issuer=config.issuer,
            leeway=config.leeway,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("Token has expired.", code="token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise NotAuthenticated(f"Token is invalid: {exc}.", code="token_not_valid") from exc
    try:
        sub = clean_external_id(claims["sub"], field="sub")
        name = claims.get("name")
        name = clean_display_name(name, field="name") if name is not None else None
    except InvalidInput as exc:
        raise NotAuthenticated(f"Token claim is invalid: {exc.detail}", code="token_not_valid") from exc
    return sub, name or None, int(claims["exp"])


def authenticate_trusted_token(raw: str) -> Authenticated:
    """The user of a good host token, provisioned on first sight."""
    from parley.services.identities import identity_provision

    sub, name, exp = verify_trusted_token(raw)
    user = identity_provision(external_id=sub, name=name)
    return Authenticated(user=user, expires_at=exp, external_id=sub)


def trusted_still_valid(auth: Authenticated) -> bool:
    """For a long-lived socket: the identity still names this user, and they are active."""
    return ExternalIdentity.objects.filter(
        external_id=auth.external_id, user_id=auth.user.pk, user__is_active=True
    ).exists()

"""PARLEY["TRUSTED_JWT"] from PARLEY_JWT_*: the host's key, issuer and audience (SPEC 9.2).

A bad value stops the process at start, not at the first request.
"""

from __future__ import annotations

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from parley.jwtkeys import parse_trusted_jwt


def trusted_jwt(env: environ.Env, own_keys: tuple[str, ...]) -> dict[str, Any] | None:
    """The trusted-token setting, or None when no host key is configured.

    `own_keys` are this server's own signing keys: a host given one of them could mint
    this server's own tokens, so the host's secret must differ.
    """
    secret = env.str("PARLEY_JWT_SECRET", default="")
    public_key = env.str("PARLEY_JWT_PUBLIC_KEY", default="", multiline=True)
    issuer = env.str("PARLEY_JWT_ISSUER", default="")
    audience = env.str("PARLEY_JWT_AUDIENCE", default="")
    if secret and public_key:
        raise ImproperlyConfigured("Set PARLEY_JWT_SECRET or PARLEY_JWT_PUBLIC_KEY, not both.")
    if not (secret or public_key):
        if issuer or audience:
            raise ImproperlyConfigured(
                "PARLEY_JWT_ISSUER / PARLEY_JWT_AUDIENCE need PARLEY_JWT_SECRET or PARLEY_JWT_PUBLIC_KEY."
            )
        return None
    if not (issuer and audience):
        raise ImproperlyConfigured("PARLEY_JWT_ISSUER and PARLEY_JWT_AUDIENCE must be set with the host's key.")
    if secret and secret in own_keys:
        raise ImproperlyConfigured("PARLEY_JWT_SECRET must differ from SECRET_KEY and JWT_SIGNING_KEY.")
    setting: dict[str, Any] = {
        "KEY": secret or public_key,
        "ISSUER": issuer,
        "AUDIENCE": audience,
        "LEEWAY_SECONDS": env.float("PARLEY_JWT_LEEWAY_SECONDS", default=0.0),
    }
    if env.str("PARLEY_JWT_ALGORITHM", default=""):
        setting["ALGORITHM"] = env.str("PARLEY_JWT_ALGORITHM")
    parse_trusted_jwt(setting)
    return setting

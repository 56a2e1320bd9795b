"""REST authentication by a host-signed bearer token (parley.trusted).

Put it before the server's or host's own JWT class:

    REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
        "parley.api.trusted.TrustedJWTAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ]

It answers only for tokens whose issuer is the host's (and only while
PARLEY["TRUSTED_JWT"] is set): those are accepted or refused (401) here; every other
request goes on to the next class.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from parley import trusted
from parley.auth import Authenticated
from parley.common.errors import NotAuthenticated


class TrustedJWTAuthentication(BaseAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[Any, Authenticated] | None:
        if trusted.trusted_key() is None:
            return None
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            return None  # not a JWT; the next class refuses it
        if not trusted.is_trusted_token(raw):
            return None
        try:
            auth = trusted.authenticate_trusted_token(raw)
        except NotAuthenticated as exc:
            raise exceptions.AuthenticationFailed(exc.detail, code=exc.code) from exc
        return auth.user, auth

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{self.www_authenticate_realm}"'


class TrustedJWTScheme(OpenApiAuthenticationExtension):
    target_class = "parley.api.trusted.TrustedJWTAuthentication"
    name = "hostJwtAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A token the host signs (iss, aud, exp, sub; optional name): docs/integration.md.",
        }

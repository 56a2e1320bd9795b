"""The server API's credential: `Authorization: Api-Key <PARLEY["API_KEY"]>`.

The key is compared as SHA-256 digests with `hmac.compare_digest`: both sides are then
32 bytes whatever was sent, so the time a refusal takes says nothing about the key,
its length included. Only the server API accepts the key; every other route ignores it
(and so refuses the request, 401).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from parley.conf import parley_settings

SCHEME = b"api-key"


class ServerClient:
    """The host's backend, as `request.user` of the server API: no user at all."""

    is_authenticated = True
    is_active = True
    pk = None

    def __str__(self) -> str:
        return "server API client"


def api_key_matches(given: bytes) -> bool:
    configured = parley_settings.API_KEY
    if not configured:
        return False
    expected = hashlib.sha256(configured.encode()).digest()
    return hmac.compare_digest(hashlib.sha256(given).digest(), expected)


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ServerClient, str] | None:
        scheme, _, key = get_authorization_header(request).partition(b" ")
        if scheme.lower() != SCHEME:
            return None
        if not api_key_matches(key.strip()):
            raise exceptions.AuthenticationFailed("Invalid API key.", code="invalid_api_key")
        return ServerClient(), "api-key"

    def authenticate_header(self, request: Request) -> str:
        return 'Api-Key realm="parley-server"'


class HasApiKey(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.user, ServerClient):
            return True
        raise exceptions.NotAuthenticated(
            "This API takes the server's API key: Authorization: Api-Key <key>.", code="api_key_required"
        )


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "parley.api.server_auth.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <PARLEY_API_KEY>`: the host's backend only, never a browser or an app.",
        }

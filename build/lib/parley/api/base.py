"""What every Parley view carries, whatever the host's REST_FRAMEWORK settings say.

A host keeps its own DRF defaults for its own views; Parley's views pin their JSON
renderer, parsers, exception handler and schema class, so the API documented in
docs/api.md answers the same in any host. Authentication is the host's: its
DEFAULT_AUTHENTICATION_CLASSES (SimpleJWT, sessions...), or PARLEY["AUTHENTICATION_CLASSES"].
"""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string
from rest_framework import exceptions, parsers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from parley.common.errors import api_exception_handler
from parley.common.openapi import ErrorDocumentingSchema
from parley.common.parsers import JSONParser
from parley.common.renderers import ORJSONRenderer
from parley.conf import parley_settings
from parley.users import User


class ParleyView(APIView):
    """Base of Parley's API views and viewsets (`class V(ParleyView, ViewSet)`)."""

    schema = ErrorDocumentingSchema()
    renderer_classes = [ORJSONRenderer]
    parser_classes = [JSONParser, parsers.MultiPartParser, parsers.FormParser]
    permission_classes = [IsAuthenticated]

    def get_authenticators(self) -> list[Any]:
        configured = parley_settings.AUTHENTICATION_CLASSES
        if configured is None:
            classes: list[Any] = list(api_settings.DEFAULT_AUTHENTICATION_CLASSES)  # imported by DRF
            return [auth() for auth in classes]
        return [(import_string(auth) if isinstance(auth, str) else auth)() for auth in configured]

    def get_exception_handler(self) -> Any:
        return api_exception_handler


def current_user(request: Request) -> User:
    """The authenticated caller of a view that requires authentication (the default)."""
    user = request.user
    if user is None or not getattr(user, "is_authenticated", False):
        raise exceptions.NotAuthenticated()
    return user  # type: ignore[return-value]

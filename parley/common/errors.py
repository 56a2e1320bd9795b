"""Application errors with stable codes, mapped to responses at the two edges.

    AppError                      400 "invalid"
    ├── InvalidInput              400 "invalid"        (field errors in `fields`)
    ├── NotAuthenticated          401 "not_authenticated"
    ├── Forbidden                 403 "forbidden"
    │   ├── NotParticipant        403 "not_participant"
    │   └── Blocked               403 "blocked"        (a block between the two users)
    ├── NotFound                  404 "not_found"
    ├── (IntegrityError)          409 "conflict"       (a race no service resolved)
    ├── ResyncRequired            410 "resync_required" (events before `since` were pruned)
    ├── PayloadTooLarge           413 "too_large"
    ├── RateLimited               429 "rate_limited"   (retry_after seconds)
    └── ServiceUnavailable        503 "unavailable"

The DRF edge is `api_exception_handler` below; the WebSocket edge turns the same
errors into `error` frames with the same `code` (chat/consumers).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class AppError(Exception):
    status = 400
    code = "invalid"
    default_detail = "The request is invalid."

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        self.detail = detail or self.default_detail
        if code:
            self.code = code
        super().__init__(self.detail)

    def as_dict(self) -> dict[str, Any]:
        return {"detail": self.detail, "code": self.code}


class InvalidInput(AppError):
    def __init__(self, detail: str | None = None, *, field: str | None = None, code: str | None = None):
        super().__init__(detail, code=code)
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        if self.field:
            # DRF's field-error shape, so clients see one format for all 400s.
            return {self.field: [self.detail], "code": self.code}
        return super().as_dict()


class NotAuthenticated(AppError):
    status = 401
    code = "not_authenticated"
    default_detail = "Authentication credentials were not provided or are invalid."


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    default_detail = "You do not have permission to perform this action."


class NotParticipant(Forbidden):
    code = "not_participant"
    default_detail = "You are not a participant of this conversation."


class Blocked(Forbidden):
    code = "blocked"
    default_detail = "You cannot do that: one of you has blocked the other."


class NotFound(AppError):
    status = 404
    code = "not_found"
    default_detail = "Not found."


class ResyncRequired(AppError):
    """The events a client asked to replay are gone (parley.retention pruned them):
    it must reload the conversation over REST and go on from its `last_seq`."""

    status = 410
    code = "resync_required"
    default_detail = "Events after this seq are no longer kept; reload the conversation and use its last_seq."

    def __init__(self, *, conversation_id: int, oldest_seq: int) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.oldest_seq = oldest_seq

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "conversation": self.conversation_id, "oldest_seq": self.oldest_seq}


class PayloadTooLarge(AppError):
    status = 413
    code = "too_large"
    default_detail = "The request is too large."


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    default_detail = "Too many requests; slow down."

    def __init__(self, detail: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "retry_after": self.retry_after}


class ServiceUnavailable(AppError):
    status = 503
    code = "unavailable"
    default_detail = "The service is temporarily unavailable; try again shortly."


DATABASE_DOWN = ServiceUnavailable("The database is unavailable; try again shortly.", code="database_unavailable")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF edge: every error becomes JSON with a `detail` (or field errors) and a `code`."""
    if isinstance(exc, AppError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return Response(exc.as_dict(), status=exc.status, headers=headers)
    if isinstance(exc, RequestDataTooBig):
        return Response(PayloadTooLarge().as_dict(), status=413)
    if isinstance(exc, TooManyFieldsSent):
        return Response(InvalidInput("Too many fields.").as_dict(), status=400)
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        return Response(DATABASE_DOWN.as_dict(), status=503, headers={"Retry-After": "2"})
    if isinstance(exc, IntegrityError):
        # Services resolve the races they expect; one that escapes is a conflict to retry.
        logger.warning("integrity error escaped a service: %s", exc)
        return Response({"detail": "The request conflicts with a concurrent change; retry.", "code": "conflict"}, 409)
    if isinstance(exc, DataError):
        return Response(InvalidInput("A value is out of range or malformed.").as_dict(), status=400)

    # Imported here: rest_framework.views imports the authentication classes, which
    # import this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, (Http404, DjangoPermissionDenied)):
        exc = drf_exceptions.NotFound() if isinstance(exc, Http404) else drf_exceptions.PermissionDenied()
    if isinstance(response.data, dict) and "detail" in response.data:
        code = getattr(response.data["detail"], "code", None) or getattr(exc, "default_code", "error")
        response.data["code"] = code
    return response


# --- Django edge: JSON instead of Django's HTML error pages --------------------------------


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)


def json_permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(Forbidden().as_dict(), status=403)


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(NotFound("No such endpoint.").as_dict(), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)

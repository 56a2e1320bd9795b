"""Request guards that must run before a view reads the body."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from parley.common.errors import PayloadTooLarge
from parley.conf import parley_settings


class RequestSizeLimitMiddleware:
    """Refuse a body whose declared length is over the limit, before reading a byte of it.

    Chunked bodies without a length are cut off by `server.asgi.BodyLimit` under ASGI.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length.", "code": "invalid"}, status=400)
        if length > settings.MAX_REQUEST_BYTES:
            limit_mib = parley_settings.MAX_ATTACHMENT_BYTES // (1024 * 1024)
            error = PayloadTooLarge(f"The request is larger than the {limit_mib} MiB upload limit.")
            return JsonResponse(error.as_dict(), status=413)
        return self.get_response(request)

"""Per request, on the Django side: the request id, one access-log event, the HTTP series.

First in MIDDLEWARE, so that it sees every answer, a 400 for a bad Host or a 413
included, and so that everything logged while the request runs carries its id.
The duration ends when the view's response is ready; a streamed body (a download)
is not included.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import LazyObject, empty

from server.ops import metrics, requestid

access_log = logging.getLogger("parley.access")

Handler = Callable[[HttpRequest], HttpResponseBase]


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route is not None:
        return metrics.route_label(match.route)
    if request.path_info.startswith(settings.STATIC_URL):
        return metrics.STATIC
    return metrics.UNMATCHED


def _known_user(request: HttpRequest) -> Any:
    """The user DRF authenticated, if any; never evaluates the lazy session user
    (a session lookup per request only to write a log line)."""
    user = request.__dict__.get("user")
    if isinstance(user, LazyObject):
        wrapped = user._wrapped
        return None if wrapped is empty else wrapped
    return user


class RequestObservability:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        rid = requestid.from_header(request.META.get(requestid.META_KEY))
        # Cleared when the response is closed (request_finished, below), not here:
        # Django logs a 4xx or 5xx after the middleware returns.
        requestid.current.set(rid)
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        response[requestid.HEADER] = rid
        route = _route(request)
        metrics.observe(method=request.method or "", route=route, status=response.status_code, seconds=seconds)
        user = _known_user(request)
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,  # never the query string: search terms, cursors
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
                "user_id": str(user.pk) if user is not None and getattr(user, "is_authenticated", False) else None,
                "remote_addr": request.META.get("REMOTE_ADDR"),
            },
        )
        return response


def _forget_request_id(**kwargs: object) -> None:
    requestid.current.set(None)


request_finished.connect(_forget_request_id, dispatch_uid="parley-forget-request-id")

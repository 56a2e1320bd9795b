"""Request guards of the standalone server that answer in JSON where Django would not.

AllowedHostsMiddleware   a Host outside ALLOWED_HOSTS: JSON 400 naming the setting,
                         instead of Django's DisallowedHost page (HTML under DEBUG)
TrailingSlashMiddleware  a path that matches a route only with a trailing slash is
                         served as if it had one; an /api/ path that matches no
                         route either way is a JSON 404. Never APPEND_SLASH's HTML
                         301 (which drops a POST body) or its RuntimeError under DEBUG
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import split_domain_port
from django.urls import is_valid_path

from parley.common.errors import NotFound

logger = logging.getLogger("django.security.DisallowedHost")

Handler = Callable[[HttpRequest], HttpResponse]


class AllowedHostsMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.get_host()
        except DisallowedHost:
            host = str(request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME") or "")[:100]
            logger.warning("refused a request for host %r: not in ALLOWED_HOSTS", host)
            name = split_domain_port(host)[0]  # ALLOWED_HOSTS takes names without the port
            detail = (
                f"This server does not serve the host {host!r}. To serve it, add "
                f"{f'{name!r}' if name else 'it'} to the ALLOWED_HOSTS setting "
                "(a comma-separated environment variable, e.g. ALLOWED_HOSTS=chat.example.com,localhost)."
            )
            return JsonResponse({"detail": detail, "code": "disallowed_host"}, status=400)
        return self.get_response(request)


class TrailingSlashMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not path.endswith("/"):
            urlconf = getattr(request, "urlconf", None)
            if not is_valid_path(path, urlconf):
                if is_valid_path(f"{path}/", urlconf):
                    # Rewritten in place, not redirected: the method, body and headers
                    # reach the view as sent, and links the view builds carry the slash.
                    request.path_info = f"{path}/"
                    request.path = f"{request.path}/"
                elif path.startswith("/api/"):
                    return JsonResponse(NotFound("No such endpoint.").as_dict(), status=404)
        return self.get_response(request)

"""Serves the single page of the web client; everything else is static files.

The page is the static `index.html` with the server's upload and message limits filled
into two `<meta>` tags, so the client can explain a limit before it uploads anything.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from parley.conf import parley_settings
from server.web.csp import CONTENT_SECURITY_POLICY

INDEX = Path(__file__).resolve().parent / "static" / "web" / "index.html"
SERVICE_WORKER = INDEX.parent / "sw.js"

LIMIT_META = re.compile(rb'(<meta name="(parley-[a-z-]+)" content=")[0-9]*(">)')


def _limits() -> dict[bytes, int]:
    return {
        b"parley-max-attachment-bytes": int(parley_settings.MAX_ATTACHMENT_BYTES),
        b"parley-max-content-length": int(parley_settings.MAX_CONTENT_LENGTH),
    }


def render_index() -> bytes:
    limits = _limits()

    def fill(match: re.Match[bytes]) -> bytes:
        value = limits.get(match.group(2))
        return match.group(0) if value is None else match.group(1) + str(value).encode() + match.group(3)

    return LIMIT_META.sub(fill, INDEX.read_bytes())


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(render_index(), content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """`/sw.js`: the push service worker from the site's root, so that its scope covers
    the whole client (a worker under /static/web/ could only control /static/web/)."""
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response

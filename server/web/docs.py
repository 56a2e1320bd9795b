"""The API's documentation pages, served without any external network.

drf-spectacular-sidecar ships Swagger UI and Redoc, but two requests still leave for
other hosts: drf-spectacular's Redoc page links Google Fonts (our template drops them)
and Redoc's menu shows the Redocly logo from its CDN (the bundle hard-codes it; the
page's Content-Security-Policy stops it, and Redoc then hides the image). The CSP
admits only this server, so no later version of either can reach out unnoticed.
Swagger UI is the split view: its start-up script is a same-origin file, not inline.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.request import Request
from rest_framework.response import Response

from server.web.csp import DOCS_CONTENT_SECURITY_POLICY


class _OfflinePage:
    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response


class SwaggerView(_OfflinePage, SpectacularSwaggerSplitView):
    pass


class RedocView(_OfflinePage, SpectacularRedocView):
    template_name = "web/redoc.html"

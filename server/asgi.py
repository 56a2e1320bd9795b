"""ASGI entry point: HTTP to Django through its WSGI handler, WebSockets to Channels.

REST is served by Django's WSGI handler on a fixed pool of threads (a2wsgi) inside the
same ASGI application, not by Django's ASGI handler: that one creates a thread context
per request (asgiref issue 563) and measured at 0.16x the WSGI rate for a bare view and
0.72x for send_message (bench/README.md). One process, one port, one command.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application

django_wsgi = get_wsgi_application()  # sets Django up before the routing imports models
django_http = WSGIMiddleware(django_wsgi, workers=settings.HTTP_THREADS)  # type: ignore[arg-type]  # returns an iterable response

from server.routing import build_application  # noqa: E402

application = build_application(django_http)

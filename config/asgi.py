"""ASGI entry point: HTTP to Django, WebSockets to the chat consumers."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application

django_http = get_asgi_application()

from config.routing import build_application  # noqa: E402

application = build_application(django_http)

"""The example host's ASGI application: its HTTP, plus Parley's sockets.

Sockets authenticate with the host's SimpleJWT token (`?token=` or an `auth` frame) or,
for the host's own pages, with its session cookie (AuthMiddlewareStack).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.host.settings")

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from parley.origin import OriginGuard  # noqa: E402
from parley.routing import DoorbellLoop, websocket_urlpatterns  # noqa: E402

application = DoorbellLoop(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": OriginGuard(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)

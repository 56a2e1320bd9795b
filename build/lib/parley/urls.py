"""Parley's REST routes: `path("api/chat/", include("parley.urls"))` in the host's URLconf."""

from parley.api.urls import urlpatterns

__all__ = ["urlpatterns"]

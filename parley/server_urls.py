"""The server API's routes: `path("api/server/", include("parley.server_urls"))`.

Guarded by PARLEY["API_KEY"] (parley.api.server_auth); off (404) without one.
"""

from django.urls import path

from parley.api.server import ServerConversationsView, ServerUserView

urlpatterns = [
    # `path`: an external id may contain "/" (URL-encoded or not); only the final slash ends it.
    path("users/<path:external_id>/", ServerUserView.as_view(), name="server-user"),
    path("conversations/", ServerConversationsView.as_view(), name="server-conversations"),
]

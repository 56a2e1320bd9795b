"""The server API's routes: `path("api/server/", include("parley.server_urls"))`.

Guarded by PARLEY["API_KEY"] (parley.api.server_auth); off (404) without one.
"""

from django.urls import path

from parley.api.server import ServerConversationsView, ServerUserView
from parley.api.webhooks import DeliveriesView, ReplayView, WebhooksView, WebhookView

urlpatterns = [
    # `path`: an external id may contain "/" (URL-encoded or not); only the final slash ends it.
    path("users/<path:external_id>/", ServerUserView.as_view(), name="server-user"),
    path("conversations/", ServerConversationsView.as_view(), name="server-conversations"),
    path("webhooks/", WebhooksView.as_view(), name="server-webhooks"),
    path("webhooks/<int:webhook_id>/", WebhookView.as_view(), name="server-webhook"),
    path("webhooks/<int:webhook_id>/deliveries/", DeliveriesView.as_view(), name="server-webhook-deliveries"),
    path(
        "webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/replay/",
        ReplayView.as_view(),
        name="server-webhook-replay",
    ),
]

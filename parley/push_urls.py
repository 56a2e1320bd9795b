"""Web Push routes: `path("api/push/", include("parley.push_urls"))` in the host's URLconf."""

from django.urls import path

from parley.api.push import PushKeyView, PushSubscriptionsView

urlpatterns = [
    path("key/", PushKeyView.as_view(), name="push-key"),
    path("subscriptions/", PushSubscriptionsView.as_view(), name="push-subscriptions"),
]

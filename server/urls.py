"""URL wiring only: each app owns its routes."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from parley.api.limits import LimitsView
from server.accounts.api.urls import auth_urlpatterns, users_urlpatterns
from server.web.docs import RedocView, SwaggerView

urlpatterns = [
    path("api/auth/", include(auth_urlpatterns)),
    path("api/users/", include(users_urlpatterns)),
    path("api/users/", include("parley.users_urls")),
    path("api/chat/", include("parley.urls")),
    path("api/server/", include("parley.server_urls")),
    path("api/push/", include("parley.push_urls")),
    path("api/limits/", LimitsView.as_view(), name="limits"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
    path("", include("server.web.urls")),
]

handler400 = "parley.common.errors.json_bad_request"
handler403 = "parley.common.errors.json_permission_denied"
handler404 = "parley.common.errors.json_not_found"
handler500 = "parley.common.errors.json_server_error"

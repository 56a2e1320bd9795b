"""URL wiring only: each app owns its routes."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.api.urls import auth_urlpatterns, users_urlpatterns
from chat.api.limits import LimitsView

urlpatterns = [
    path("api/auth/", include(auth_urlpatterns)),
    path("api/users/", include(users_urlpatterns)),
    path("api/chat/", include("chat.api.urls")),
    path("api/limits/", LimitsView.as_view(), name="limits"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
    path("", include("web.urls")),
]

handler400 = "common.errors.json_bad_request"
handler403 = "common.errors.json_permission_denied"
handler404 = "common.errors.json_not_found"
handler500 = "common.errors.json_server_error"

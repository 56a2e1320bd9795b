from django.contrib import admin
from django.urls import include, path

from examples.host.people import views

urlpatterns = [
    path("api/auth/login/", views.login, name="host-login"),
    path("api/auth/refresh/", views.refresh, name="host-refresh"),
    path("api/chat/", include("parley.urls")),  # Parley
    path("api/users/", include("parley.users_urls")),  # Parley's blocks
    path("admin/", admin.site.urls),
]

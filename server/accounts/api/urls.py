from django.urls import path, re_path

from server.accounts.api import views

auth_urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="auth-register"),
    # The seed's original code also answered without the slash; keep both.
    re_path(r"^login/?$", views.LoginView.as_view(), name="auth-login"),
    path("refresh/", views.RefreshView.as_view(), name="auth-refresh"),
    # The original backend's clients refresh here.
    re_path(r"^refresh-token/?$", views.RefreshTokenAliasView.as_view(), name="auth-refresh-token"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("me/", views.MeView.as_view(), name="auth-me"),
    path("me/export/", views.ExportView.as_view(), name="auth-me-export"),
    path("password/", views.PasswordChangeView.as_view(), name="auth-password"),
]

users_urlpatterns = [
    path("", views.UserSearchView.as_view(), name="user-search"),
]

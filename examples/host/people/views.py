"""The host's own login: SimpleJWT's views, on email and password."""

from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

login = TokenObtainPairView.as_view()
refresh = TokenRefreshView.as_view()

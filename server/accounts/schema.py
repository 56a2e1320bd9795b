"""OpenAPI: document our JWT authentication class as SimpleJWT's bearer scheme."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class ParleyJWTScheme(SimpleJWTScheme):
    target_class = "server.accounts.authentication.JWTAuthentication"
    name = "jwtAuth"

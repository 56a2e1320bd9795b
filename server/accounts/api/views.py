"""Account endpoints: thin views over accounts.services and accounts.selectors."""

from __future__ import annotations

import hashlib

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.fields import BooleanField
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from parley.common.errors import InvalidInput
from parley.common.openapi import ErrorDocumentingSchema
from parley.common.ratelimit import rate_limit_give_back, rate_limit_hit
from server.accounts import selectors, services
from server.accounts.api import serializers as s
from server.accounts.authentication import current_user


def client_ip(request: Request) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


class RegisterView(APIView):
    schema = ErrorDocumentingSchema()
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(request=s.RegisterIn, responses={201: s.UserOut}, tags=["auth"])
    def post(self, request: Request) -> Response:
        # Only accounts created count: one over the budget is refused before any work,
        # and a refused attempt (a taken name, a weak password) is given back.
        ip = client_ip(request)
        rate_limit_hit(scope="register", key=ip)
        try:
            data = s.RegisterIn(data=request.data)
            data.is_valid(raise_exception=True)
            user = services.user_register(**data.validated_data)
        except BaseException:
            rate_limit_give_back(scope="register", key=ip)
            raise
        return Response({"id": user.pk, "username": user.username}, status=status.HTTP_201_CREATED)


class LoginView(TokenObtainPairView):
    schema = ErrorDocumentingSchema()
    authentication_classes = ()

    @extend_schema(responses={200: s.TokenPairOut}, tags=["auth"])
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        username = str(request.data.get("username", "")).lower()[:150] if hasattr(request.data, "get") else ""
        rate_limit_hit(scope="login", key=f"ip:{client_ip(request)}")
        if username:
            # Hashed: a cache key must not carry whatever bytes a client put in a username.
            digest = hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]
            rate_limit_hit(scope="login", key=f"user:{digest}")
        return super().post(request, *args, **kwargs)


class RefreshView(TokenRefreshView):
    schema = ErrorDocumentingSchema()
    authentication_classes = ()

    @extend_schema(responses={200: s.TokenPairOut}, tags=["auth"])
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().post(request, *args, **kwargs)


class RefreshTokenAliasView(RefreshView):
    @extend_schema(
        responses={200: s.TokenPairOut},
        tags=["compatibility"],
        description="The original backend's name for `POST /api/auth/refresh/`; the same in every way.",
    )
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().post(request, *args, **kwargs)


class LogoutView(APIView):
    schema = ErrorDocumentingSchema()
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(request=s.RefreshIn, responses={204: None}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = s.RefreshIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.session_logout(refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    schema = ErrorDocumentingSchema()

    @extend_schema(responses={200: s.MeOut}, tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(s.MeOut(current_user(request)).data)

    @extend_schema(
        request=s.AccountDeleteIn,
        responses={
            200: s.AccountDeletedOut,
            400: OpenApiResponse(description="No password (`password_required`) or a wrong one (`wrong_password`)"),
        },
        tags=["auth"],
        description="Close your account: confirmed with your password, it is deactivated (no token or socket "
        "of yours works again); with `erase: true` every message you sent is blanked and its file removed.",
    )
    def delete(self, request: Request) -> Response:
        data = request.data if hasattr(request.data, "get") else {}
        try:
            erase = BooleanField().to_internal_value(data.get("erase", False))
        except ValidationError:
            raise InvalidInput("Must be true or false.", field="erase", code="invalid") from None
        erased = services.account_delete(user=current_user(request), password=data.get("password"), erase=erase)
        return Response({"deactivated": True, "erased_messages": erased})


CONFIRM_HEADER = "X-Password"


class ExportView(APIView):
    schema = ErrorDocumentingSchema()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                CONFIRM_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Your password, to confirm (a header: a query string would be logged).",
            )
        ],
        responses={
            200: s.ExportOut,
            400: OpenApiResponse(description="No password (`password_required`) or a wrong one (`wrong_password`)"),
        },
        tags=["auth"],
        description="Your data as a JSON download: your profile, your conversations' metadata, "
        "the messages you sent and the users you blocked.",
    )
    def get(self, request: Request) -> Response:
        data = services.account_export(user=current_user(request), password=request.headers.get(CONFIRM_HEADER))
        return Response(data, headers={"Content-Disposition": 'attachment; filename="parley-export.json"'})


class PasswordChangeView(APIView):
    schema = ErrorDocumentingSchema()

    @extend_schema(request=s.PasswordChangeIn, responses={200: s.TokenPairOut}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = s.PasswordChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.user_change_password(user=current_user(request), **data.validated_data)
        return Response(tokens)


class UserSearchView(APIView):
    schema = ErrorDocumentingSchema()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search",
                {"type": "string", "maxLength": 150, "pattern": "^[^\\u0000]*$"},
                description="Part of a username.",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 50},
                description="At most this many users (1..50, default 20).",
            ),
        ],
        responses={200: s.UserOut(many=True)},
        tags=["users"],
    )
    def get(self, request: Request) -> Response:
        params = s.UserSearchIn(data=request.query_params)
        params.is_valid(raise_exception=True)
        users = selectors.user_search(
            query=params.validated_data["search"],
            exclude_user_id=current_user(request).pk,
            limit=params.validated_data["limit"],
        )
        return Response([{"id": u.pk, "username": u.username} for u in users])

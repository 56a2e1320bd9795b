"""Account API serializers: inputs validate shape, outputs document the JSON."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework import serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from server.accounts.models import RevokedSession, User
from server.accounts.selectors import user_login_name
from server.accounts.tokens import SESSION_CLAIM, new_session_refresh_token


class RegisterIn(serializers.Serializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z", max_length=150, error_messages={"invalid": "Letters, digits and @/./+/-/_ only."}
    )
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class UserOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class MeOut(UserOut):
    email = serializers.CharField(allow_blank=True, help_text="An email address, or empty.")
    date_joined = serializers.DateTimeField()


class TokenPairOut(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LoginSerializer(TokenObtainPairSerializer):
    """SimpleJWT's login, with a fresh session id in both tokens. The `username` may
    also be the account's email, as the original backend's clients send it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = "A username, or the email of an account."

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        return super().validate({**attrs, "username": user_login_name(identifier=attrs["username"])})

    @classmethod
    def get_token(cls, user: Any) -> RefreshToken:
        return new_session_refresh_token(user)


class RefreshSerializer(TokenRefreshSerializer):
    """Rotating refresh that also refuses logged-out sessions and deleted users."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        token = RefreshToken(attrs["refresh"])  # TokenError -> 401 in the view
        sid = token.get(SESSION_CLAIM)
        if sid and RevokedSession.objects.filter(sid=sid).exists():
            raise InvalidToken("This session has been logged out.")
        user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM), is_active=True).first()
        if user is None:
            raise AuthenticationFailed("No active account found for the given token.", "no_active_account")
        # SimpleJWT checks the password fingerprint on access tokens only; without this
        # a refresh token from before a password change would mint new sessions.
        if token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise InvalidToken("The password has been changed.")
        # Single use even when two requests race: the token's row is locked (SQLite's
        # IMMEDIATE transaction locks the database) until this use has blacklisted it,
        # and super() checks the blacklist again under that lock.
        with transaction.atomic():
            OutstandingToken.objects.select_for_update().filter(jti=token[api_settings.JTI_CLAIM]).first()
            return super().validate(attrs)


class RefreshIn(serializers.Serializer):
    refresh = serializers.CharField()


class PasswordChangeIn(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class UserSearchIn(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=50, default=20)


class AccountDeleteIn(serializers.Serializer):
    password = serializers.CharField(help_text="The current password, to confirm.", trim_whitespace=False)
    erase = serializers.BooleanField(
        required=False, default=False, help_text="Also blank every message you sent and remove its files."
    )


class AccountDeletedOut(serializers.Serializer):
    deactivated = serializers.BooleanField()
    erased_messages = serializers.IntegerField()


class ExportOut(serializers.Serializer):
    profile = MeOut()
    conversations = serializers.ListField(child=serializers.DictField())
    messages = serializers.ListField(child=serializers.DictField())
    blocked = serializers.ListField(child=serializers.DictField())
    exported_at = serializers.DateTimeField()

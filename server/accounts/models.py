"""Users and revoked login sessions."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """The account. Custom from the first migration so that fields can be added later."""

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]


class RevokedSession(models.Model):
    """A login session ended by logout.

    Every token pair issued at login carries the session id in its `sid` claim (kept
    through refresh rotation), so revoking the session rejects its access tokens on
    HTTP and closes its WebSocket connections, not only its refresh token.
    """

    sid = models.CharField(max_length=32, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    revoked_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"session {self.sid} of user {self.user_id}"

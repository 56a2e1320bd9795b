"""What the suite needs from the project it runs in: the standalone server (the default,
`server.settings`) or the example host (`--ds=examples.host.settings`, a UUID/email user
model with its own SimpleJWT tokens).

Tests that hold for any host use only these functions for users, tokens and the ASGI
application; tests of the standalone's own accounts import `server.accounts` directly
and are not collected in a host run (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from parley.users import wire_id


def is_standalone() -> bool:
    return settings.AUTH_USER_MODEL == "accounts.User"


def create_user(name: str, *, password: str, **fields: Any) -> Any:
    """A user called `name` (its username, or the local part of its email and its full
    name in the example host), so that `sender_name == name` in either project."""
    User = get_user_model()
    if is_standalone():
        user = User(username=name, **fields)
    else:
        user = User(email=f"{name}@example.test", full_name=name, **fields)
    user.set_password(password)
    user.save()
    return user


def access_token(user: Any) -> str:
    if is_standalone():
        from server.accounts.tokens import token_pair_for_user

        return token_pair_for_user(user)["access"]
    from rest_framework_simplejwt.tokens import AccessToken

    return str(AccessToken.for_user(user))


def uid(user: Any) -> Any:
    """The user's id as the API writes it (a number, or a UUID's text)."""
    return wire_id(user.pk)


def in_process_asgi() -> Any:
    """The project's ASGI router with Django's own ASGI handler for HTTP (see
    tests/conftest.py in_process_application)."""
    if is_standalone():
        from django.core.asgi import get_asgi_application

        from server.routing import build_application

        return build_application(get_asgi_application())
    from django.utils.module_loading import import_string

    return import_string(settings.ASGI_APPLICATION)


def token_pair(user: Any) -> dict[str, str]:
    """A fresh access and refresh token of the project's own login."""
    if is_standalone():
        from server.accounts.tokens import token_pair_for_user

        return token_pair_for_user(user)
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}

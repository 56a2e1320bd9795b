"""A member's Web Push subscriptions, one per browser (device)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.db import transaction

from parley.common.errors import AppError, InvalidInput
from parley.models import PushSubscription
from parley.notify import webpush
from parley.notify.destinations import UnsafeDestination, check_syntax, resolve
from parley.users import User

# A user's browsers: past this many, the oldest subscription goes. Each one is a URL the
# worker POSTs to for every message, so the number a user can register stays small.
MAX_SUBSCRIPTIONS_PER_USER = 10


class PushDisabled(AppError):
    status = 404
    code = "push_disabled"
    default_detail = "Web Push is off on this server: set VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY."


def _key(value: object, *, field: str, size: int) -> str:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise InvalidInput("A base64url key is expected.", field=field, code="invalid_subscription")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInput("A base64url key is expected.", field=field, code="invalid_subscription")
    if len(raw) != size:
        raise InvalidInput(f"The key must be {size} bytes.", field=field, code="invalid_subscription")
    return value


def _endpoint(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 2000:
        raise InvalidInput("The subscription's endpoint URL.", field="endpoint", code="invalid_subscription")
    try:
        scheme, _, _ = check_syntax(value)
        resolve(value)
    except UnsafeDestination as refused:
        raise InvalidInput(refused.detail, field="endpoint", code=refused.code)
    from parley.conf import parley_settings

    if scheme != "https" and not parley_settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES:
        raise InvalidInput("Push endpoints are https URLs.", field="endpoint", code="invalid_url")
    return value


def subscription_save(*, user: User, data: Any) -> tuple[PushSubscription, bool]:
    """Store the browser's `PushSubscription.toJSON()` (`{endpoint, keys: {p256dh, auth}}`)
    for `user`; an endpoint known under another user (a shared browser, another login)
    moves to this one; past MAX_SUBSCRIPTIONS_PER_USER the user's oldest is dropped.
    Returns `(subscription, created)`."""
    if not webpush.configured():
        raise PushDisabled()
    if not isinstance(data, dict):
        raise InvalidInput("A JSON object is expected.", code="invalid")
    keys = data.get("keys")
    if not isinstance(keys, dict):
        raise InvalidInput("`keys` with `p256dh` and `auth`.", field="keys", code="invalid_subscription")
    endpoint = _endpoint(data.get("endpoint"))
    p256dh = _key(keys.get("p256dh"), field="keys", size=65)
    auth = _key(keys.get("auth"), field="keys", size=16)
    with transaction.atomic():
        subscription, created = PushSubscription.objects.update_or_create(
            endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth}
        )
        kept = PushSubscription.objects.filter(user=user).order_by("-id").values_list("id", flat=True)
        PushSubscription.objects.filter(user=user).exclude(id__in=list(kept[:MAX_SUBSCRIPTIONS_PER_USER])).delete()
    return subscription, created


def subscription_delete(*, user: User, endpoint: object) -> None:
    """Forget the caller's subscription of `endpoint` (idempotent: 204 whether or not it existed;
    another user's endpoint is never touched)."""
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidInput("The subscription's endpoint URL.", field="endpoint", code="invalid_subscription")
    PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()

"""Web Push: VAPID keys from the settings and one encrypted push (`pywebpush`,
aes128gcm) to one subscription, sent through parley.notify.destinations (checked and
pinned) rather than `requests`.

Keys: PARLEY["VAPID_PRIVATE_KEY"] (the raw P-256 private key, base64url, as
`manage.py parley_vapid_keys` prints it) and PARLEY["VAPID_PUBLIC_KEY"] (the
uncompressed public point, base64url: the browser's `applicationServerKey`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from parley.conf import parley_settings
from parley.notify.destinations import Answer, post

GONE = {404, 410}  # the push service forgot the subscription: delete it


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def generate_keys() -> tuple[str, str]:
    """`(private, public)` VAPID keys, base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return _b64url(private), _b64url(public)


def configured() -> bool:
    return bool(parley_settings.VAPID_PRIVATE_KEY and parley_settings.VAPID_PUBLIC_KEY)


def public_key() -> str:
    return str(parley_settings.VAPID_PUBLIC_KEY)


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


class _PinnedSession:
    """What pywebpush calls `requests_session`: its POST, through the checked client."""

    def post(self, url: str, *, data: bytes | None = None, headers: Any = None, timeout: float | None = None) -> Any:
        answer = post(url, content=data or b"", headers=dict(headers or {}), timeout=timeout or 5.0)
        return _Response(answer)


class _Response:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.status_code = answer.status_code if answer.status_code is not None else 599
        self.text = answer.text or answer.error
        self.reason = answer.error or ""
        self.headers = answer.headers


def send(subscription: Subscription, payload: dict[str, Any], *, topic: str) -> Answer:
    """Encrypt `payload` to the subscription's keys and POST it with a VAPID JWT, the
    `Topic` (a newer push of the same topic replaces an undelivered older one) and the
    TTL. Never raises for the push service's faults."""
    from pywebpush import WebPushException, webpush

    claims: dict[str, str | int] = {"sub": str(parley_settings.VAPID_SUBJECT)}
    try:
        response = webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=orjson.dumps(payload).decode(),
            vapid_private_key=str(parley_settings.VAPID_PRIVATE_KEY),
            vapid_claims=claims,
            ttl=int(parley_settings.PUSH_TTL_SECONDS),
            headers={"Topic": topic, "Urgency": "normal"},
            timeout=float(parley_settings.WEBHOOK_TIMEOUT_SECONDS),
            requests_session=_PinnedSession(),  # type: ignore[arg-type]
        )
    except WebPushException as failed:
        response = failed.response
        if isinstance(response, _Response):
            return response.answer
        return Answer(error=str(failed)[:300])
    except (ValueError, TypeError) as failed:  # malformed keys of a subscription
        return Answer(error=f"invalid subscription: {failed}"[:300])
    if isinstance(response, _Response):
        return response.answer
    return Answer(error="unexpected answer")

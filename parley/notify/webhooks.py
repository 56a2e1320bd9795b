"""Outgoing webhooks: Standard Webhooks signatures (the `standardwebhooks` library) and
one delivery attempt.

Headers: `webhook-id` (the delivery's `message_id`, the same on every retry and replay:
receivers deduplicate by it), `webhook-timestamp` (this attempt's, in seconds) and
`webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret).
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

import orjson
from standardwebhooks.webhooks import Webhook as Signer

from parley.conf import parley_settings
from parley.notify.destinations import Answer, post

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
USER_AGENT = "Parley-Webhooks/1"


def new_secret() -> str:
    """A `whsec_` secret: 32 random bytes, base64 (what Standard Webhooks libraries take)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def body_of(payload: object) -> bytes:
    return orjson.dumps(payload)


def signed_headers(*, secret: str, message_id: str, body: bytes, at: datetime | None = None) -> dict[str, str]:
    at = at or datetime.now(UTC)
    signature = Signer(secret).sign(msg_id=message_id, timestamp=at, data=body.decode())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def attempt(*, url: str, secret: str, message_id: str, payload: object) -> Answer:
    """One signed POST of `payload` to `url` (checked, redirects checked, 5 s timeout)."""
    body = body_of(payload)
    return post(
        url,
        content=body,
        headers=signed_headers(secret=secret, message_id=message_id, body=body),
        timeout=float(parley_settings.WEBHOOK_TIMEOUT_SECONDS),
    )

"""Stand-ins the notification tests start: a webhook receiver and a Web Push service,
real HTTP servers on loopback threads, and a browser-side push subscription whose keys
decrypt what the push service received (http_ece), with the VAPID JWT checked (py_vapid).
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from py_vapid import jwt as vapid_jwt

from parley.notify.webpush import generate_keys


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Stand:
    """An HTTP server that records every POST and answers from `script` (status codes,
    the last one repeated), after `delay` seconds."""

    script: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self._lock:
            index = min(len(self.received) - 1, len(self.script) - 1)
            return self.script[index]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)


@contextmanager
def serve(stand: Stand) -> Iterator[Stand]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            content = self.rfile.read(length)
            with stand._lock:
                stand.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, content))
            if stand.delay:
                time.sleep(stand.delay)
            status = stand.answer()
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stand.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Browser:
    """What a browser's PushManager holds for one subscription: its ECDH key pair and
    auth secret. `subscription(endpoint)` is what `PushSubscription.toJSON()` gives."""

    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self, endpoint: str) -> dict[str, Any]:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def decrypt(self, received: Received) -> dict[str, Any]:
        assert received.headers["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(
            received.body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return dict(orjson.loads(plain))


def vapid_claims(received: Received, *, public_key: str) -> dict[str, Any]:
    """The VAPID JWT's claims, after py_vapid checked its signature against `public_key`."""
    authorization = received.headers["authorization"]
    assert Vapid02.verify(authorization), "VAPID signature does not verify"
    parts = dict(token.split("=", 1) for token in authorization.split(" ", 1)[1].split(","))
    assert parts["k"] == public_key
    return dict(vapid_jwt.decode(parts["t"], parts["k"]))


def vapid_settings() -> dict[str, str]:
    private, public = generate_keys()
    return {"VAPID_PRIVATE_KEY": private, "VAPID_PUBLIC_KEY": public, "VAPID_SUBJECT": "mailto:ops@example.test"}

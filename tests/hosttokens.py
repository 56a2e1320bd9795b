"""A host that signs its own tokens: keys made with `cryptography`, tokens with PyJWT.

`HostKeys` holds an HS256 secret, an RSA key pair and an EC P-256 key pair; `enable()`
turns a test's settings into a standalone server trusting one of them (and opening the
server API with `API_KEY`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://host.example.com"
AUDIENCE = "parley-test"
API_KEY = "k" * 20 + "-test-server-api-key-0123456789"
SECRET = "host-secret-for-hs256-tokens-" + "0123456789abcdef" * 3


def pem_public(private_key: Any) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class HostKeys:
    rsa_private: Any
    ec_private: Any
    secret: str = SECRET

    @classmethod
    def generate(cls) -> HostKeys:
        return cls(
            rsa_private=rsa.generate_private_key(public_exponent=65537, key_size=2048),
            ec_private=ec.generate_private_key(ec.SECP256R1()),
        )

    def verifying_key(self, algorithm: str) -> str:
        return {"HS256": self.secret, "RS256": pem_public(self.rsa_private), "ES256": pem_public(self.ec_private)}[
            algorithm
        ]

    def signing_key(self, algorithm: str) -> Any:
        return {"HS256": self.secret, "RS256": self.rsa_private, "ES256": self.ec_private}[algorithm]

    def enable(self, settings: Any, algorithm: str = "HS256", *, api_key: str = API_KEY) -> None:
        settings.PARLEY = {
            **settings.PARLEY,
            "TRUSTED_JWT": {"KEY": self.verifying_key(algorithm), "ISSUER": ISSUER, "AUDIENCE": AUDIENCE},
            "API_KEY": api_key,
            "DISPLAY_NAME": "parley.identities.display_name",
            "RATE_LIMITS_ENABLED": False,
        }

    def token(
        self, sub: Any = "host-user-1", *, algorithm: str = "HS256", key: Any = None, headers: Any = None, **claims: Any
    ) -> str:
        """A host token: `claims` override the defaults; a claim given as None is left out."""
        payload: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "exp": int(time.time()) + 300}
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key if key is not None else self.signing_key(algorithm), algorithm, headers)

"""PARLEY["TRUSTED_JWT"], read and checked: the key and the claims a host token must carry.

No model, no app registry: the standalone server's settings call `parse_trusted_jwt`
to refuse a bad key before the process starts. The rules:

    KEY         a secret (HS256, at least 32 bytes), or a PEM public key: RSA of 2048+
                bits (RS256) or EC P-256 (ES256); never a private key
    ALGORITHM   optional; when given it must be the one the key implies
    ISSUER      required: the `iss` of the host's tokens, and how they are told apart
    AUDIENCE    required: the `aud` they must carry, so a token the host minted for
                another service is not good here
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.exceptions import ImproperlyConfigured

SETTING_KEYS = {"KEY", "ALGORITHM", "ISSUER", "AUDIENCE", "LEEWAY_SECONDS"}
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class TrustedKey:
    key: Any  # the HS256 secret (bytes) or a loaded public key
    algorithm: str
    issuer: str
    audience: str
    leeway: float


def parse_trusted_jwt(raw: object) -> TrustedKey:
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured('PARLEY["TRUSTED_JWT"] must be a dict or None.')
    try:
        return _parse(tuple(sorted(raw.items())))
    except TypeError as exc:  # an unhashable value (a list, a dict): not a setting of ours
        raise ImproperlyConfigured('PARLEY["TRUSTED_JWT"] values must be strings or numbers.') from exc


@functools.lru_cache(maxsize=8)
def _parse(items: tuple[tuple[str, Any], ...]) -> TrustedKey:
    """Cached: a PEM key is parsed once, not on every request."""
    raw = dict(items)
    unknown = sorted(set(raw) - SETTING_KEYS)
    if unknown:
        raise ImproperlyConfigured(f'PARLEY["TRUSTED_JWT"] has unknown keys: {", ".join(unknown)}.')
    for name in ("KEY", "ISSUER", "AUDIENCE"):
        if not isinstance(raw.get(name), str) or not raw[name]:
            raise ImproperlyConfigured(f'PARLEY["TRUSTED_JWT"]["{name}"] must be a non-empty string.')
    key, algorithm = _key_and_algorithm(raw["KEY"], raw.get("ALGORITHM"))
    leeway = raw.get("LEEWAY_SECONDS", 0)
    if not isinstance(leeway, int | float) or isinstance(leeway, bool) or not 0 <= leeway <= 300:
        raise ImproperlyConfigured('PARLEY["TRUSTED_JWT"]["LEEWAY_SECONDS"] must be a number of seconds, 0..300.')
    return TrustedKey(key=key, algorithm=algorithm, issuer=raw["ISSUER"], audience=raw["AUDIENCE"], leeway=leeway)


def _key_and_algorithm(text: str, algorithm: object) -> tuple[Any, str]:
    if "-----BEGIN" not in text:
        if algorithm not in (None, "HS256"):
            raise ImproperlyConfigured("A secret key signs HS256 tokens; give a PEM public key for RS256 or ES256.")
        if len(text.encode()) < MIN_SECRET_BYTES:
            raise ImproperlyConfigured(f"The HS256 secret must be at least {MIN_SECRET_BYTES} bytes long.")
        return text.encode(), "HS256"
    if "PRIVATE KEY" in text:
        raise ImproperlyConfigured("Give Parley the public key only; the private key stays with the host.")
    pem = text.replace("\\n", "\n").strip().encode()  # an env var may carry the newlines escaped
    try:
        key = load_pem_public_key(pem)
    except ValueError as exc:
        raise ImproperlyConfigured("The trusted key is not a PEM public key.") from exc
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ImproperlyConfigured("The RSA public key must have at least 2048 bits.")
        expected = "RS256"
    elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        expected = "ES256"
    else:
        raise ImproperlyConfigured("The trusted public key must be RSA (RS256) or EC P-256 (ES256).")
    if algorithm not in (None, expected):
        raise ImproperlyConfigured(f"This public key verifies {expected} tokens, not {algorithm}.")
    return key, expected

"""Where Parley may send a request: the guard against server-side request forgery.

A webhook URL comes from the host's backend and a push endpoint from a browser; either
could name an address inside the network Parley runs in. So every request goes to an
http(s) URL whose host resolves only to public addresses, checked after DNS resolution,
and then to exactly the address that was checked (the connection is pinned to it, the
`Host` header and TLS name stay the URL's), on every redirect hop again.
`PARLEY["NOTIFY_ALLOW_PRIVATE_ADDRESSES"]` lifts the address rule (development and
tests, where receivers listen on loopback); the scheme rule always holds.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx

from parley.conf import parley_settings

MAX_REDIRECTS = 3
REDIRECTS = {301, 302, 303, 307, 308}


class UnsafeDestination(Exception):
    """The URL is not one Parley sends to; `code` is the API's error code."""

    def __init__(self, detail: str, *, code: str = "unsafe_url") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


@dataclass(frozen=True)
class Resolved:
    url: str
    host: str
    address: str  # the checked address the connection goes to


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_syntax(url: str) -> tuple[str, str, int]:
    """`(scheme, host, port)` of an absolute http(s) URL, else UnsafeDestination."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeDestination("Not a valid URL.", code="invalid_url")
    if parts.scheme not in {"http", "https"}:
        raise UnsafeDestination("Only http and https URLs are allowed.", code="invalid_url")
    if not parts.hostname:
        raise UnsafeDestination("The URL has no host.", code="invalid_url")
    if parts.username or parts.password:
        raise UnsafeDestination("The URL must not carry credentials.", code="invalid_url")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(url: str, *, allow_private: bool | None = None) -> Resolved:
    """Resolve the URL's host; refuse it unless every address is public (or private
    addresses are allowed). Raises UnsafeDestination (`invalid_url`, `unsafe_url`,
    `unresolvable_url`)."""
    if allow_private is None:
        allow_private = bool(parley_settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES)
    _, host, port = check_syntax(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):  # ValueError: a NUL in the name
        raise UnsafeDestination(f"The host {host!r} does not resolve.", code="unresolvable_url")
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise UnsafeDestination(f"The host {host!r} does not resolve.", code="unresolvable_url")
    if not allow_private:
        refused = [a for a in addresses if not _is_public(a)]
        if refused:
            raise UnsafeDestination(
                f"The host {host!r} resolves to a private, loopback or link-local address ({refused[0]})."
            )
    return Resolved(url=url, host=host, address=addresses[0])


def _pinned(resolved: Resolved) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL with the checked address in place of the host, the Host header and the
    TLS server name that keep the request the URL's."""
    parts = urlsplit(resolved.url)
    literal = f"[{resolved.address}]" if ":" in resolved.address else resolved.address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host_header = parts.netloc.rpartition("@")[2]
    extensions = {"sni_hostname": resolved.host} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context per process: building one per request (httpx's default,
    which loads the CA bundle) cost more than the request itself."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


@dataclass
class Answer:
    """What a POST came to: a status code, or an error (refused, timed out, unreachable)."""

    status_code: int | None = None
    error: str = ""
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST to a checked destination, following up to MAX_REDIRECTS redirects, each one
    checked again. Never raises for the network's or the receiver's faults."""
    for _ in range(MAX_REDIRECTS + 1):
        try:
            resolved = resolve(url)
        except UnsafeDestination as refused:
            return Answer(error=f"{refused.code}: {refused.detail}")
        target, host_header, extensions = _pinned(resolved)
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls()) as client:
                response = client.post(
                    target, content=content, headers={**headers, **host_header}, extensions=extensions
                )
        except httpx.TimeoutException:
            return Answer(error=f"timeout after {timeout:g} s")
        except httpx.HTTPError as failed:
            return Answer(error=f"{type(failed).__name__}: {failed}"[:300])
        if response.status_code in REDIRECTS and response.headers.get("location"):
            url = str(httpx.URL(url).join(response.headers["location"]))
            continue
        return Answer(status_code=response.status_code, text=response.text[:500], headers=dict(response.headers))
    return Answer(error=f"more than {MAX_REDIRECTS} redirects")

"""HTTP series and the `/metrics` exposition.

    parley_http_requests_total{method, route, status}        counter
    parley_http_request_duration_seconds{method, route}      histogram

`route` is the URL pattern that matched (`/api/chat/conversations/<pk>/send_message/`),
never the raw path, so the number of series stays bounded whatever clients request;
a request that matched nothing is `<unmatched>`, a static file `<static>`.

Under gunicorn, PROMETHEUS_MULTIPROC_DIR (set by server/gunicorn.py before the
workers start) makes every process write its samples to files there, and a scrape of
any worker adds up all of them. A single process (`make run`) serves its own registry.
"""

from __future__ import annotations

import functools
import hmac
import os
import re

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

import parley.metrics  # noqa: F401 - registers the chat series

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "<unmatched>"
STATIC = "<static>"

http_requests = Counter(
    "parley_http_requests", "HTTP requests answered, by method, route and status.", ("method", "route", "status")
)
http_duration = Histogram(
    "parley_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by method and route.",
    ("method", "route"),
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_GROUP = re.compile(r"\(\?P<(\w+)>")


@functools.lru_cache(maxsize=1024)
def route_label(pattern: str) -> str:
    """`api/chat/conversations/(?P<pk>[0-9]{1,18})/send_message/$` ->
    `/api/chat/conversations/<pk>/send_message/`: named groups become `<name>`, however
    their inner pattern nests brackets; anchors and optional slashes go."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        match = _GROUP.match(pattern, i)
        if match is None:
            out.append(pattern[i])
            i += 1
            continue
        depth, j = 1, match.end()
        while j < len(pattern) and depth:
            if pattern[j] == "\\":
                j += 1
            elif pattern[j] == "(":
                depth += 1
            elif pattern[j] == ")":
                depth -= 1
            j += 1
        out.append(f"<{match.group(1)}>")
        i = j
    text = "".join(out).replace("^", "").replace("/?$", "/").replace("$", "").replace("\\", "")
    return "/" + text.lstrip("/")


def observe(*, method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    http_requests.labels(method, route, str(status)).inc()
    http_duration.labels(method, route).observe(seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition() -> bytes:
    """Every process's samples (multiprocess mode) or this process's."""
    directory = multiprocess_dir()
    if directory:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def authorized(header: str | None) -> bool:
    """`Authorization: Bearer <METRICS_TOKEN>`, compared in constant time. No token
    configured means no /metrics at all (404), never an open one."""
    expected = settings.METRICS_TOKEN
    if not expected or not header:
        return False
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


__all__ = ["CONTENT_TYPE_LATEST", "authorized", "exposition", "observe", "route_label"]

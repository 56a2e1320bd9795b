"""The product's ASGI application with the changes the benchmark measures, by env var.

    gunicorn bench.variants:application -c server/gunicorn.py     (production)
    uvicorn bench.variants:application ...                        (embedded)

    BENCH_HTTP=a2wsgi          HTTP goes to Django's WSGI handler through a2wsgi's thread
                               pool (BENCH_A2WSGI_THREADS, default 8) inside the same ASGI
                               app, instead of Django's ASGI handler; WebSockets unchanged
    BENCH_WS_THREADS=parallel  the consumer's database_sync_to_async calls run on a thread
                               pool (thread_sensitive=False; size ASGI_THREADS) instead of
                               the one thread per process Channels uses by default
    BENCH_PRESENCE_CAP=<n>     presence only for conversations of at most n members: no
                               `presence` publish to larger groups and no snapshot of
                               their members (a 1,000-member group otherwise costs N^2/2
                               presence frames when its members connect)

With none set this is server.asgi.application. The settings-level alternatives (pool,
health checks, channel layer) are in bench.settings. Only the benchmark imports this.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")


def _http() -> Any:
    if os.environ.get("BENCH_HTTP") == "a2wsgi":
        from a2wsgi import WSGIMiddleware
        from django.core.wsgi import get_wsgi_application

        threads = int(os.environ.get("BENCH_A2WSGI_THREADS", "8"))
        return WSGIMiddleware(get_wsgi_application(), workers=threads)
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


def _parallel_socket_threads() -> None:
    from channels.db import DatabaseSyncToAsync

    from parley.realtime import consumer as consumers

    if not hasattr(consumers, "database_sync_to_async"):
        return  # the consumer no longer makes its calls through this name

    def parallel(func: Any) -> Any:
        return DatabaseSyncToAsync(func, thread_sensitive=False)

    consumers.database_sync_to_async = parallel  # type: ignore[assignment]


def _presence_cap(cap: int) -> None:
    from django.db.models import Count

    from parley.models import Membership
    from parley.realtime import commands

    if not hasattr(commands, "socket_authenticate") or not hasattr(commands, "co_members"):
        return  # the product caps presence itself since 141bddc

    def small(conversation_ids: list[int]) -> set[int]:
        rows = (
            Membership.objects.filter(conversation_id__in=conversation_ids)
            .values("conversation_id")
            .annotate(n=Count("id"))
            .filter(n__lte=cap)
            .values_list("conversation_id", flat=True)
        )
        return set(rows)

    authenticate, co_members = commands.socket_authenticate, commands.co_members

    def socket_authenticate(*, token: str, conversation_id: int | None) -> commands.SocketGrant:
        grant = authenticate(token=token, conversation_id=conversation_id)
        keep = small(grant.member_of)
        grant.member_of = [c for c in grant.member_of if c in keep]
        return grant

    def capped_co_members(*, user_id: int, conversation_ids: list[int], limit: int = 1000) -> list[int]:
        keep = small(conversation_ids)
        return co_members(user_id=user_id, conversation_ids=[c for c in conversation_ids if c in keep], limit=limit)

    commands.socket_authenticate = socket_authenticate  # type: ignore[assignment]
    commands.co_members = capped_co_members  # type: ignore[assignment]


def _build() -> Any:
    http = _http()  # sets Django up before anything imports models
    if os.environ.get("BENCH_WS_THREADS") == "parallel":
        _parallel_socket_threads()
    if os.environ.get("BENCH_PRESENCE_CAP"):
        _presence_cap(int(os.environ["BENCH_PRESENCE_CAP"]))
    from server.routing import build_application

    return build_application(http)


def __getattr__(name: str) -> Any:
    if name == "application":
        return _build()
    raise AttributeError(name)

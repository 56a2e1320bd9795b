"""S1: REST send_message throughput, against a bare Django view doing the same inserts.

wrk drives POST send_message over the seeded direct conversations (one token and one
conversation per request, rotating), closed loop at `CONNECTIONS` connections; the
reference is bench.refapp's view with the same writes under gunicorn WSGI (gthread),
so the ratio is "product / bare Django, no ASGI tax". The raw ASGI "ok" server shows
the load generator's ceiling, and the bare view served the product's way shows what
the server command itself costs.

Targets: >= 500 messages/s with p99 <= 50 ms; >= 0.8x the bare view's rate.
"""

from __future__ import annotations

import json

from bench import httpload, servers
from bench.httpload import Request
from bench.scenarios import Context, check

CONNECTIONS = 8
BODY = json.dumps({"content": "Hello from the benchmark: an ordinary chat message of ordinary length."})


def product_requests(ctx: Context) -> list[Request]:
    return [
        Request(
            "POST",
            f"/api/chat/conversations/{p['id']}/send_message/",
            {**ctx.auth(p["a"]), "Content-Type": "application/json"},
            BODY,
        )
        for p in ctx.fixture["pairs"]
    ]


def ref_requests(ctx: Context) -> list[Request]:
    return [Request("POST", f"/ref/send/{p['id']}/{ctx.user_id(p['a'])}/") for p in ctx.fixture["pairs"]]


def measure(server: servers.Server, requests: list[Request], seconds: float, connections: int = CONNECTIONS) -> dict:
    httpload.run(server.url, requests, connections=connections, seconds=1)  # warm up
    return httpload.run(server.url, requests, connections=connections, seconds=seconds)


def run(ctx: Context) -> None:
    seconds = ctx.profile.seconds
    hello = [Request("GET", "/ref/hello/")]
    with servers.raw_asgi(ctx.mode, workers=ctx.workers) as raw:
        raw_hello = measure(raw, hello, seconds, connections=64)
    with servers.ref_django(ctx.mode, kind="wsgi", workers=ctx.workers) as ref:
        ref_send = measure(ref, ref_requests(ctx), seconds)
        ref_hello_wsgi = measure(ref, hello, seconds)
    ref_hello_asgi = {"rate": None}
    if ctx.profile.name != "quick":
        with servers.ref_django(ctx.mode, kind="asgi", workers=ctx.workers) as ref:
            ref_hello_asgi = measure(ref, hello, seconds)
    ours = measure(ctx.product(), product_requests(ctx), seconds)
    ctx.refs.update(
        raw_http=raw_hello["rate"],
        bare_send_wsgi=ref_send["rate"],
        bare_hello_wsgi=ref_hello_wsgi["rate"],
        bare_hello_asgi=ref_hello_asgi["rate"],
    )

    errors = f"{ours['errors']} errors of {ours['requests']}" if ours["errors"] else ""
    ctx.add("S1", "send_message rate", ours["rate"], "msg/s", ">= 500", check(ours["rate"], at_least=500), note=errors)
    ctx.add("S1", "send_message p99", ours["p99_ms"], "ms", "<= 50", check(ours["p99_ms"], at_most=50))
    ratio = ours["rate"] / ref_send["rate"] if ref_send["rate"] else None
    ctx.add(
        "S1",
        "send_message / bare view",
        ratio,
        "x",
        ">= 0.8",
        check(ratio, at_least=0.8),
        reference="bare Django view, same inserts, WSGI",
        ref_value=ref_send["rate"],
        ratio=ratio,
        note=f"bare view p99 {ref_send['p99_ms']:.1f} ms",
    )
    if ref_hello_asgi["rate"] is not None:
        ctx.add(
            "ref",
            "bare Django view (hello), served like the product",
            ref_hello_asgi["rate"],
            "req/s",
            reference="same view under WSGI",
            ref_value=ref_hello_wsgi["rate"],
            ratio=ref_hello_asgi["rate"] / ref_hello_wsgi["rate"] if ref_hello_wsgi["rate"] else None,
        )
    headroom = raw_hello["rate"] / ours["rate"] if ours["rate"] else None
    ctx.add(
        "ref",
        "load generator: wrk on raw ASGI / on send_message",
        headroom,
        "x",
        ">= 3",
        check(headroom, at_least=3),
        reference="raw ASGI 'ok' req/s",
        ref_value=raw_hello["rate"],
        ratio=headroom,
    )
    if ctx.variants and ctx.mode.production:
        variants(ctx, ours["rate"], ref_send["rate"], seconds)


def variants(ctx: Context, product_rate: float, bare_rate: float, seconds: float) -> None:
    """The ways production could serve REST, same load, ratio to the product as it is."""
    m, w = ctx.mode, ctx.workers
    a2wsgi = {"BENCH_HTTP": "a2wsgi"}
    persistent = {"DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_PERSISTENT": "60"}
    app = "bench.variants:application"
    candidates = {
        "ASGI, persistent connections (no pool)": servers.product(
            m, workers=w, settings="bench.settings", BENCH_PERSISTENT="60"
        ),
        "a2wsgi in the ASGI app (8 threads)": servers.gunicorn_asgi(m, app, "a2wsgi", workers=w, **a2wsgi),
        "a2wsgi, persistent connections (no pool)": servers.gunicorn_asgi(
            m, app, "a2wsgi-persistent", workers=w, **a2wsgi, **persistent
        ),
        "gunicorn gthread WSGI (4 threads)": servers.gunicorn_wsgi(
            m, "server.wsgi:application", "gthread", workers=w, threads=4
        ),
        "granian ASGI": servers.granian(m, "server.asgi:application", "granian", workers=w),
    }
    for name, server in candidates.items():
        try:
            with server:
                result = measure(server, product_requests(ctx), seconds)
        except Exception as exc:  # noqa: BLE001 - a failing variant is a finding, not a crash
            ctx.add("S1v", name, None, "msg/s", note=f"failed: {exc}"[:120])
            continue
        errors = f"; {result['errors']} errors" if result["errors"] else ""
        ctx.add(
            "S1v",
            name,
            result["rate"],
            "msg/s",
            reference="product as is",
            ref_value=product_rate,
            ratio=result["rate"] / product_rate if product_rate else None,
            note=f"p99 {result['p99_ms']:.0f} ms; {result['rate'] / bare_rate:.2f}x bare{errors}",
        )

"""S2: a keyset history page at every depth of one conversation of 10^5 (quick) or
10^6 (full) messages, one connection, so p50 is the cost of one request.

Depth d means the page just older than the d-th newest message (`?before=<id>&limit=50`;
depth 0 is the newest page, `?limit=50`). The seed's page mode at the deepest page is
shown beside it (OFFSET plus COUNT), and the bare Django view served the same way is
the reference of what any request costs.

Targets: keyset p50 <= 5 ms at every depth; deepest / first <= 1.2.
"""

from __future__ import annotations

from bench import httpload
from bench.httpload import Request
from bench.scenarios import Context, check

LIMIT = 50


def run(ctx: Context) -> None:
    deep = ctx.fixture["deep"]
    server = ctx.product()
    auth = ctx.auth(deep["a"])
    base = f"/api/chat/conversations/{deep['id']}/messages/"
    seconds = max(1.0, ctx.profile.seconds / 2)
    httpload.run(server.url, [Request("GET", f"{base}?limit={LIMIT}", auth)], connections=1, seconds=1)
    p50s: dict[int, float] = {}
    for depth in ctx.profile.depths:
        depth = min(depth, deep["count"] - LIMIT)
        query = f"?limit={LIMIT}" if depth == 0 else f"?before={deep['last_id'] - depth + 1}&limit={LIMIT}"
        result = httpload.run(server.url, [Request("GET", base + query, auth)], connections=1, seconds=seconds)
        p50s[depth] = result["p50_ms"]
        errors = f"{result['errors']} errors" if result["errors"] else ""
        ctx.add(
            "S2",
            f"keyset page at depth {depth:,}",
            result["p50_ms"],
            "ms p50",
            "<= 5",
            check(result["p50_ms"], at_most=5),
            note=errors,
        )
    first, deepest = p50s[min(p50s)], p50s[max(p50s)]
    ctx.add("S2", "deepest / first page", deepest / first, "x", "<= 1.2", check(deepest / first, at_most=1.2))
    last_page = deep["count"] // LIMIT
    offset = httpload.run(
        server.url, [Request("GET", f"{base}?page={last_page}&page_size={LIMIT}", auth)], connections=1, seconds=seconds
    )
    ctx.add(
        "S2",
        f"page mode (OFFSET + COUNT) at page {last_page:,}",
        offset["p50_ms"],
        "ms p50",
        reference="keyset at the same depth",
        ref_value=deepest,
        ratio=offset["p50_ms"] / deepest if deepest else None,
    )

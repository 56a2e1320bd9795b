"""S3: the first page of the conversation list of users with 10, 100 and 1,000
conversations, one connection; the query counts come from bench.inproc (the same
endpoint through Django's test client on the same database).

Targets: first page p50 <= 10 ms for the user with 1,000; query count constant.
"""

from __future__ import annotations

from bench import httpload
from bench.httpload import Request
from bench.scenarios import Context, check


def run(ctx: Context) -> None:
    server = ctx.product()
    seconds = max(1.0, ctx.profile.seconds / 2)
    hello = httpload.run(server.url, [Request("GET", "/api/auth/me/", ctx.auth(0))], connections=1, seconds=seconds)
    ctx.refs["me_p50_ms"] = hello["p50_ms"]
    counts = ctx.fixture.get("query_counts", {})
    quick = ctx.profile.name == "quick"
    for n, spec in sorted(ctx.fixture["list_users"].items(), key=lambda kv: int(kv[0])):
        auth = ctx.auth(spec["user"])
        for embed in ("", "?embed=0"):
            if quick and (n == "100" or (embed and n == "10")):
                continue
            url = "/api/chat/conversations/" + embed
            if not quick:
                httpload.run(server.url, [Request("GET", url, auth)], connections=1, seconds=1)
            result = httpload.run(server.url, [Request("GET", url, auth)], connections=1, seconds=seconds)
            label = f"list, {int(n):,} conversations" + (" (embed=0)" if embed else " (default embed)")
            queries = counts.get(f"list_{n}{'_embed0' if embed else ''}")
            is_target = n == str(ctx.profile.list_conversations) and not embed
            ctx.add(
                "S3",
                label,
                result["p50_ms"],
                "ms p50",
                "<= 10" if is_target else "",
                check(result["p50_ms"], at_most=10) if is_target else None,
                reference="GET /api/auth/me/ p50",
                ref_value=hello["p50_ms"],
                ratio=result["p50_ms"] / hello["p50_ms"] if hello["p50_ms"] else None,
                note=f"{queries} queries" if queries is not None else "",
            )
    values = {counts.get(f"list_{n}") for n in ctx.fixture["list_users"]}
    if values and None not in values:
        ctx.add(
            "S3",
            "queries for 10 / 100 / 1,000 conversations",
            len(values),
            "distinct counts",
            "1",
            len(values) == 1,
            note=" / ".join(str(counts[f"list_{n}"]) for n in sorted(ctx.fixture["list_users"], key=int)),
        )

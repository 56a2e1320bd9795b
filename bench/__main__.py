"""`python -m bench --quick | --full`: every scenario in both run modes, one table.

    --quick        production mode, small data (2*10^4-message history, 500 idle sockets,
                   the 1,000-member fan-out, 1,000 reconnecting clients), 1 s runs:
                   about 5 minutes (`make bench`)
    --full         both modes at the issue's sizes (10^6 messages, 10,000 sockets, 1,000
                   reconnecting clients) and S1's server variants (`make bench-full`)
    --modes        production,embedded (default: the profile's)
    --only         S1,S2,... (default all)
    --variants     also measure S1's server variants in a quick run
    --config       as-is (default): the product as `make serve-prod` / `make run` serve it;
                   recommended: with every change bench/README.md recommends applied
                   through bench.variants and bench.settings

Per mode: fresh data stores, seed, query counts, reference points, scenarios; the
table is printed and written to bench/results/, and bench/README.md's summary updated.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
import traceback

from bench import httpload, modes, refs, report
from bench.profiles import PROFILES
from bench.scenarios import Context, Row

SCENARIOS = {
    "S1": "s1_send",
    "S2": "s2_history",
    "S3": "s3_conversations",
    "S4": "s4_latency",
    "S5": "s5_fanout",
    "S6": "s6_idle",
    "S7": "s7_reconnect",
    "S8": "s8_slow",
}


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def run_mode(mode: modes.Mode, profile_name: str, only: list[str], variants: bool, config: str) -> list[Row]:
    profile = PROFILES[profile_name]
    log(f"{mode.name}: fresh database and seed ({profile.deep:,}-message history)")
    mode.setup()
    try:
        fixture_path = modes.VAR / f"{mode.name}-fixture.json"
        subprocess.run(
            [modes.PY, "-m", "bench.seed", "--profile", profile_name, "--out", str(fixture_path)],
            cwd=modes.ROOT,
            env=mode.django_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        fixture = json.loads(fixture_path.read_text())
        fixture["query_counts"] = _json_from(mode, "bench.inproc", "--fixture", str(fixture_path))
        fixture["micro"] = _json_from(mode, "bench.micro")
        ctx = Context(mode=mode, profile=profile, fixture=fixture, variants=variants, config=config)
        reference_points(ctx)
        for key in only:
            log(f"{mode.name}: {key}")
            started = time.monotonic()
            try:
                importlib.import_module(f"bench.scenarios.{SCENARIOS[key]}").run(ctx)
            except Exception as exc:  # noqa: BLE001 - one broken scenario must not hide the others
                traceback.print_exc()
                ctx.add(key, "scenario failed", None, "", met=False, note=f"{exc.__class__.__name__}: {exc}"[:200])
            finally:
                ctx.stop_servers()
                mode.redis_flush()
            log(f"{mode.name}: {key} took {time.monotonic() - started:.0f} s")
        derived(ctx)
        return ctx.rows
    finally:
        mode.teardown()


def _json_from(mode: modes.Mode, module: str, *args: str) -> dict:
    """What a bench module run under the mode's settings prints, as JSON."""
    command = [modes.PY, "-m", module, *args]
    done = subprocess.run(command, cwd=modes.ROOT, env=mode.django_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout))


def reference_points(ctx: Context) -> None:
    seconds = min(3.0, ctx.profile.seconds)
    insert = refs.insert_rate(ctx.mode.database_url, seconds=seconds)
    ctx.refs["insert"] = insert["rate"]
    kind = "PostgreSQL" if ctx.mode.production else "SQLite (WAL, NORMAL)"
    ctx.add("ref", f"raw INSERT, 1 connection, 1 row per commit ({kind})", insert["rate"], "rows/s")
    if ctx.mode.production:
        publish = refs.publish_rate(ctx.mode.env["REDIS_URL"], seconds=min(2.0, seconds))
        ctx.refs["publish"] = publish["rate"]
        ctx.add("ref", "Redis PUBLISH, 1 connection, 600 bytes", publish["rate"], "msg/s")
    mc = ctx.fixture["micro"]
    ctx.add(
        "ref",
        "50-message page: DRF serializer / lean rows",
        mc["drf_serializer_us"] / 1000,
        "ms",
        reference="lean rows (ms)",
        ref_value=mc["lean_rows_us"] / 1000,
        ratio=mc["drf_serializer_us"] / mc["lean_rows_us"],
    )
    ctx.add(
        "ref",
        "50-message page: DRF JSONRenderer / orjson",
        mc["drf_json_renderer_us"] / 1000,
        "ms",
        reference="orjson.dumps (ms)",
        ref_value=mc["orjson_us"] / 1000,
        ratio=mc["drf_json_renderer_us"] / mc["orjson_us"],
    )
    qc = ctx.fixture["query_counts"]
    ctx.add("guard", "queries: send_message", qc["send_message"], "queries")
    ctx.add(
        "guard",
        "queries: history page, newest / deepest",
        qc["history_newest"],
        "queries",
        note=f"deepest: {qc['history_deepest']}",
    )
    for name in ("small", "deep"):
        if f"keyset_ok_{name}" in qc:
            ctx.add(
                "guard",
                f"keyset page plan, {name} conversation (EXPLAIN)",
                None,
                "",
                "index scan" + (", no sort" if name == "deep" else ""),
                bool(qc[f"keyset_ok_{name}"]),
                note=f"index: {qc[f'keyset_index_{name}']}",
            )


def derived(ctx: Context) -> None:
    """Figures as ratios of the data stores' own reference rates."""
    by = {(r.scenario, r.metric): r for r in ctx.rows}
    send = by.get(("S1", "send_message rate"))
    if send and send.value and ctx.refs.get("insert"):
        ctx.add(
            "S1",
            "send_message / raw INSERT rate",
            send.value / ctx.refs["insert"],
            "x",
            reference="raw INSERT rows/s",
            ref_value=ctx.refs["insert"],
            ratio=send.value / ctx.refs["insert"],
        )
    burst = by.get(("S5", "1,000 members: burst deliveries/s (1 worker)"))
    if burst and burst.value and ctx.refs.get("publish"):
        ctx.add(
            "S5",
            "1,000-member deliveries / Redis PUBLISH rate",
            burst.value / ctx.refs["publish"],
            "x",
            reference="Redis PUBLISH msg/s",
            ref_value=ctx.refs["publish"],
            ratio=burst.value / ctx.refs["publish"],
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", dest="profile", const="quick")
    size.add_argument("--full", action="store_const", dest="profile", const="full")
    parser.add_argument("--modes", default="")
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--variants", action="store_true")
    parser.add_argument("--config", choices=("as-is", "recommended"), default="as-is")
    parser.add_argument("--no-readme", action="store_true", help="do not update bench/README.md")
    args = parser.parse_args()
    profile = args.profile or "quick"
    only = [s.strip().upper() for s in args.only.split(",") if s.strip()]
    httpload.ensure_wrk()
    info = report.machine()
    started = time.monotonic()
    rows: dict[str, list[Row]] = {}
    for name in args.modes.split(",") if args.modes else PROFILES[profile].modes:
        mode = modes.production() if name.strip() == "production" else modes.embedded()
        label = mode.name if args.config == "as-is" else f"{mode.name} (recommended)"
        rows[label] = run_mode(mode, profile, only, args.variants or profile == "full", args.config)
    elapsed = time.monotonic() - started
    body = report.table(rows)
    command = "python -m bench " + " ".join(sys.argv[1:])
    text = report.document(command=command, profile=profile, info=info, body=body, notes=[], seconds=elapsed)
    path = report.write(text, profile=profile, update_readme=not args.no_readme and set(only) == set(SCENARIOS))
    print(body)
    met = [r for rs in rows.values() for r in rs if r.met is not None]
    print(f"\n{sum(1 for r in met if r.met)} of {len(met)} targets met; {elapsed:.0f} s; written to {path}")


if __name__ == "__main__":
    main()

"""Parley benchmarks: load generators, a data-set generator and one results table.

    python -m bench --quick | --full       (make bench | make bench-full)

Every figure is printed beside reference points measured in the same run on the same
machine (a bare Django view, a raw ASGI echo, the database's raw INSERT rate, Redis'
PUBLISH rate), as a ratio, because absolute numbers drift between machines.

    __main__     the CLI: both run modes, one table, bench/results/<stamp>.md
    modes        the two run modes: database, Redis, environment of the servers
    servers      start, probe and stop server processes (product, variants, references)
    seed         the data-set generator (runs inside Django, writes a fixture file)
    httpload     wrk with a Lua script, parsed into a latency summary
    wsclient     an asyncio client on `websockets` with HDR percentiles
    refs         reference points: raw INSERT rate, Redis PUBLISH rate
    scenarios/   S1 .. S8 of the benchmark issue, one module each
    report       the results table and the machine it ran on
"""

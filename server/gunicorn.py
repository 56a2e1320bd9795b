"""gunicorn settings for production: WEB_CONCURRENCY uvicorn workers on one port.

Run by `make serve-prod`. Any number of such processes on any number of hosts can sit
behind one load balancer: they share nothing but PostgreSQL and Redis.

Metrics (prometheus-client's multiprocess mode): every worker writes its samples under
PROMETHEUS_MULTIPROC_DIR, which the master empties when it starts (files of an earlier
run would be added in) and which a scrape of any worker sums up. Without the variable
the master makes a private directory and removes it at exit. A worker that exits takes
its share of the live gauges with it (`mark_process_dead`); its counters stay counted.

Shutdown: SIGTERM to the master drains every worker; SIGTERM to one worker (or SIGHUP
to the master, which replaces them all) restarts just that one, the others keep
serving. A draining worker stops accepting, closes its sockets with 1012, finishes
its in-flight requests and exits within `graceful_timeout` (server.workers).
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 - a server binds all interfaces
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "server.workers.ParleyWorker"
# WebSockets stay open for hours; gunicorn's timeout only watches worker liveness.
timeout = 60
# A draining worker has this long from SIGTERM to exit; past it the master kills it.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "20"))
keepalive = 5
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the parley.access events replace it (server.ops.middleware)

_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    # Set before any worker imports prometheus_client: it chooses its storage at import.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="parley-metrics-")


def on_starting(server: Any) -> None:
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

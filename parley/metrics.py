"""Parley's Prometheus series, when `prometheus-client` is installed (`parley[metrics]`).

    parley_websocket_connections         gauge    open sockets (past the handshake)
    parley_events_published_total        counter  channel-layer sends that succeeded, by kind
    parley_publish_failures_total        counter  sends that failed or were dropped, by reason
    parley_catchup_replays_total         counter  socket opens that replayed stored events
    parley_catchup_events_total          counter  stored events those replays sent
    parley_gap_fills_total               counter  missed events read from the database (gap, resync)
    parley_messages_sent_total           counter  sends, by result (created, duplicate retry)

The series live in prometheus-client's default registry; under a multi-process server
(gunicorn, PROMETHEUS_MULTIPROC_DIR set before start) each process writes its own files
and a scrape sums them (the gauge as `livesum`: a dead worker's sockets drop out).
Without the package every call here is a no-op, so the reusable app does not need it.
"""

from __future__ import annotations

from typing import Any

try:
    from prometheus_client import Counter, Gauge
except ImportError:  # pragma: no cover - the optional extra is not installed
    Counter = Gauge = None  # type: ignore[assignment,misc]


class _Nothing:
    """Stands in for a series when prometheus-client is missing."""

    def labels(self, *args: Any, **kwargs: Any) -> _Nothing:
        return self

    def inc(self, amount: float = 1) -> None:
        return None

    def dec(self, amount: float = 1) -> None:
        return None


def _counter(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Any:
    return Counter(name, documentation, labels) if Counter is not None else _Nothing()


if Gauge is not None:
    websocket_connections: Any = Gauge(
        "parley_websocket_connections", "Open WebSocket connections past the handshake.", multiprocess_mode="livesum"
    )
else:  # pragma: no cover
    websocket_connections = _Nothing()

events_published = _counter("parley_events_published", "Channel-layer messages sent (doorbells), by kind.", ("kind",))
publish_failures = _counter(
    "parley_publish_failures", "Channel-layer sends that failed or were dropped, by reason.", ("reason",)
)
catchup_replays = _counter("parley_catchup_replays", "Socket opens with `since` that replayed stored events.")
catchup_events = _counter("parley_catchup_events", "Stored events replayed to reconnecting sockets.")
gap_fills = _counter("parley_gap_fills", "Missed events read from the database (a seq gap, or the resync).")
messages_sent = _counter("parley_messages_sent", "Messages sent (REST and WebSocket), by result.", ("result",))

for _kind in ("conversation", "user", "revoke"):
    events_published.labels(kind=_kind)
for _result in ("created", "duplicate"):
    messages_sent.labels(result=_result)
for _reason in ("error", "timeout", "backlog_full"):
    publish_failures.labels(reason=_reason)

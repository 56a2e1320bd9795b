"""Latency recording with HDR histograms, and the one summary shape every scenario returns.

Values are recorded in microseconds (1 us .. 10 min, 3 significant digits), so a
percentile is exact to 0.1 % whatever the spread, as in HdrHistogram everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

PERCENTILES = (50, 90, 99, 99.9)


@dataclass
class Latency:
    """An HDR histogram of latencies; `record` takes seconds."""

    histogram: HdrHistogram = field(default_factory=lambda: HdrHistogram(1, 600_000_000, 3))

    def record(self, seconds: float) -> None:
        self.histogram.record_value(max(1, int(seconds * 1_000_000)))

    def record_us(self, micros: int) -> None:
        self.histogram.record_value(max(1, micros))

    @property
    def count(self) -> int:
        return int(self.histogram.get_total_count())

    def ms(self, percentile: float) -> float:
        return self.histogram.get_value_at_percentile(percentile) / 1000.0

    def summary(self) -> dict[str, Any]:
        if self.count == 0:
            return {"count": 0}
        out: dict[str, Any] = {"count": self.count, "max_ms": self.histogram.get_max_value() / 1000.0}
        for p in PERCENTILES:
            out[f"p{p:g}_ms"] = self.ms(p)
        out["mean_ms"] = self.histogram.get_mean_value() / 1000.0
        return out


def ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return value / reference

"""The operator's documents stay true to the code: every variable the settings read is in
.env.example, every series Parley exports is explained in docs/operations.md, and the
Grafana dashboard queries only series that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

import server.ops.metrics  # noqa: F401 - registers the series

ROOT = Path(__file__).resolve().parents[1]


def exported_series() -> set[str]:
    names = set()
    for metric in REGISTRY.collect():
        if metric.name.startswith("parley_"):
            names.add(metric.name + ("_total" if metric.type == "counter" else ""))
    return names


def test_every_environment_variable_is_in_env_example() -> None:
    read = set(re.findall(r'env\.\w+\("([A-Z0-9_]+)"', (ROOT / "server/settings.py").read_text()))
    read |= set(
        re.findall(r"""os\.environ(?:\.get\(|\[)["']([A-Z0-9_]+)["']""", (ROOT / "server/gunicorn.py").read_text())
    )
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert read and sorted(read - listed) == []


def test_every_series_is_explained_in_operations_md() -> None:
    doc = (ROOT / "docs/operations.md").read_text()
    series = exported_series()
    assert len(series) >= 9
    assert sorted(name for name in series if f"`{name}`" not in doc) == []


def test_the_dashboard_queries_only_series_that_exist() -> None:
    dashboard = json.loads((ROOT / "docs/grafana-dashboard.json").read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {re.sub(r"_bucket$", "", name) for e in expressions for name in re.findall(r"parley_\w+", e)}
    assert used and sorted(used - exported_series()) == []

"""docs/integration.md lists every PARLEY setting of parley/conf.py, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from parley.conf import DEFAULTS

DOC = Path(__file__).resolve().parents[1] / "docs" / "integration.md"


def test_every_parley_setting_is_documented_and_nothing_else():
    section = DOC.read_text().split("## The `PARLEY` settings", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([A-Z_]+)`", row.split("|")[1])}
    assert documented == set(DEFAULTS)


def test_a_mistyped_setting_fails_the_system_check(settings):
    from parley.checks import parley_settings_known

    settings.PARLEY = {**settings.PARLEY, "MAX_CONTENT_LENGHT": 5}
    assert [e.id for e in parley_settings_known()] == ["parley.E001"]
    settings.PARLEY = {"MAX_CONTENT_LENGTH": 5}
    assert parley_settings_known() == []

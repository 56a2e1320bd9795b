"""System checks: a mistyped PARLEY setting fails `manage.py check`, never silently."""

from __future__ import annotations

from typing import Any

from django.core import checks

from parley.conf import parley_settings, unknown_settings


@checks.register()
def parley_settings_known(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(f"PARLEY has no setting {name!r}.", hint="parley/conf.py lists them all.", id="parley.E001")
        for name in unknown_settings()
    ]


@checks.register()
def presence_grace_in_range(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The grace must end while the announcement key still lives (presence.TTL)."""
    grace = parley_settings.PRESENCE_OFFLINE_GRACE_SECONDS
    if isinstance(grace, int | float) and 0 <= grace <= 90:
        return []
    hint = "Seconds from 0 (announce offline at once) to 90."
    return [checks.Error("PARLEY['PRESENCE_OFFLINE_GRACE_SECONDS'] is out of range.", hint=hint, id="parley.E002")]

"""System checks: a mistyped PARLEY setting fails `manage.py check`, never silently."""

from __future__ import annotations

from typing import Any

from django.core import checks

from parley.conf import unknown_settings


@checks.register()
def parley_settings_known(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(f"PARLEY has no setting {name!r}.", hint="parley/conf.py lists them all.", id="parley.E001")
        for name in unknown_settings()
    ]

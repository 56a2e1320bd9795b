"""JSON rendering with orjson: the lean read path builds plain dicts, and encoding them
with DRF's JSONRenderer cost 14.7x orjson's time (bench/README.md, serializers)."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_fallback = JSONEncoder().default  # lazy strings, Decimals, UUIDs... as DRF encodes them


class ORJSONRenderer(JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_fallback, option=orjson.OPT_NON_STR_KEYS)

"""Serializer and JSON-encoder costs, measured inside Django (no server, no network).

    python -m bench.micro        (prints JSON; run by the benchmark in each mode)

A 50-message history page, as the REST API renders it: DRF field serializers
(parley.api.serializers.MessageOut, the documented output schema) against the lean
path the product uses (parley.representations.message_row_json over `.values()` rows),
and the stdlib json encoder DRF's JSONRenderer uses against orjson.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

import django

django.setup()

import orjson  # noqa: E402
from rest_framework.renderers import JSONRenderer  # noqa: E402

from parley.api.serializers import MessageOut  # noqa: E402
from parley.models import Message  # noqa: E402
from parley.representations import message_row_json, message_rows_json, message_values  # noqa: E402


def per_call(func: Callable[[], Any], *, seconds: float = 0.5) -> float:
    func()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        func()
        count += 1
    return (time.perf_counter() - started) / count


def main() -> None:
    ids = list(Message.objects.order_by("-id").values_list("id", flat=True)[:50])
    instances = list(Message.objects.filter(id__in=ids).select_related("sender"))
    rows = list(message_values(Message.objects.filter(id__in=ids)))
    page = message_rows_json(rows)
    renderer = JSONRenderer()
    out = {
        "drf_serializer_us": per_call(lambda: MessageOut(instances, many=True).data) * 1e6,
        "lean_rows_us": per_call(lambda: [message_row_json(r) for r in rows]) * 1e6,
        "drf_json_renderer_us": per_call(lambda: renderer.render(page)) * 1e6,
        "stdlib_json_us": per_call(lambda: json.dumps(page)) * 1e6,
        "orjson_us": per_call(lambda: orjson.dumps(page)) * 1e6,
        "rows": len(rows),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""LOGGING: one console handler (JSON lines or plain), tokens redacted, server loggers tamed."""

from __future__ import annotations

from typing import Any


def logging_config(level: str, fmt: str) -> dict[str, Any]:
    # uvicorn's DEBUG lines are the websockets library's dumps of every frame, message
    # content included: never below INFO, whatever LOG_LEVEL says.
    server_level = "INFO" if level.upper() == "DEBUG" else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {
                "()": "server.ops.logs.PlainFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
            "json": {"()": "server.ops.logs.JsonFormatter"},
        },
        "filters": {"redact_tokens": {"()": "parley.common.logging.RedactTokensFilter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["redact_tokens"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # uvicorn and gunicorn install their own handlers before Django starts; these replace
        # them with ours (which redact tokens). uvicorn's access log is off: the parley.access
        # events (server.ops.middleware) say the same with the route, the duration and the
        # request id, and without the query string.
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "uvicorn": {"handlers": ["console"], "level": server_level, "propagate": False},
            "uvicorn.error": {"handlers": [], "level": server_level, "propagate": True},
            "websockets": {"level": server_level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }

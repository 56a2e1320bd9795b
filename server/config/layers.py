"""CHANNEL_LAYERS and CACHES: Redis when REDIS_URL is set (production), in-process otherwise."""

from __future__ import annotations

from typing import Any

import environ

Setting = dict[str, dict[str, Any]]


def channel_layers(env: environ.Env, redis_url: str) -> Setting:
    if not redis_url:
        # Capacity per socket: past it the layer drops frames (sockets then fill the gap
        # from the database); the default of 100 lost the tail of bursts (bench S7).
        return {
            "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000, "expiry": 60}}
        }
    return {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": redis_url,
                        # redis-py's default 5 s read timeout would drop idle pub/sub
                        # connections; keepalives and health checks detect dead peers.
                        "socket_timeout": None,
                        "socket_connect_timeout": 2,
                        "socket_keepalive": True,
                        "health_check_interval": 15,
                    }
                ],
                "prefix": env.str("CHANNEL_PREFIX", default="parley"),
            },
        }
    }


def caches(env: environ.Env, redis_url: str) -> Setting:
    if not redis_url:
        return {"default": {"BACKEND": "parley.common.cache.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "parley.common.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": env.str("CACHE_PREFIX", default="parley"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

"""The uvicorn worker class gunicorn runs in production (`make serve-prod`)."""

from uvicorn_worker import UvicornWorker


class ParleyWorker(UvicornWorker):
    CONFIG_KWARGS = {
        "loop": "auto",
        "http": "auto",
        "lifespan": "off",  # Channels' router has no lifespan handler
        # Protocol-level pings keep idle sockets open through proxies and find dead peers.
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
        # Frames over 1 MiB are refused by the server; the app's own limit is 64 KiB.
        "ws_max_size": 1024 * 1024,
        "server_header": False,
        "proxy_headers": True,
    }

"""gunicorn settings for production: WEB_CONCURRENCY uvicorn workers on one port.

Run by `make serve-prod`. Any number of such processes on any number of hosts can sit
behind one load balancer: they share nothing but PostgreSQL and Redis.
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 - a server binds all interfaces
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "server.workers.ParleyWorker"
# WebSockets stay open for hours; gunicorn's timeout only watches worker liveness.
timeout = 60
graceful_timeout = 20
keepalive = 5
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # uvicorn's access log goes through Django's LOGGING (tokens redacted)

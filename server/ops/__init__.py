"""What an operator needs from the standalone server, beside the chat itself.

probes      /healthz (the process answers) and /readyz (database, Redis), in ASGI
metrics     /metrics for Prometheus: HTTP series here, chat series in parley.metrics
requestid   X-Request-ID in, out and on every log line of the request or socket
logs        one JSON object per line in production, secrets redacted
middleware  the Django side: request id, access log and HTTP metrics per request
asgi        the ASGI side: probes, /metrics and the socket's request id and log
"""

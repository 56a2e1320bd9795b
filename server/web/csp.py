"""The web client's Content-Security-Policy: only our own scripts, styles, images and
sockets, so user content can never run on the page. Imported by settings (static
files) and by web.views (the page itself); it must not import Django."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "connect-src 'self' ws: wss:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

# The API docs pages (server/web/docs.py): only this server, as for the client, but
# Swagger UI and Redoc style themselves with inline styles (styled-components).
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def add_static_headers(headers: dict[str, str], path: str, url: str) -> None:
    """whitenoise hook: static HTML (e.g. /static/web/index.html) gets the same CSP."""
    if path.endswith((".html", ".htm", ".svg")):
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY

"""The API docs pages (/api/docs/, /api/redoc/) need no network but this server.

Their HTML and every script and stylesheet they reference are read here: the pages
themselves name no other host at all, and the vendored Swagger UI and Redoc bundles
(drf-spectacular-sidecar, pinned) name only the hosts listed below, each for a reason.
The pages' Content-Security-Policy admits only this server, which is what stops the two
loads the bundles hard-code. tests/browser/test_docs_offline.py watches a real browser.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume")  # static files under ASGI

PAGES = ["/api/docs/", "/api/redoc/"]
URL = re.compile(r"https?://([A-Za-z0-9.-]+)", re.IGNORECASE)  # a bare "https://" names no host

# In the bundles, never fetched: XML namespaces, JSON Schema and OpenAPI identifiers,
# links in error messages and licence notes, examples, Redoc's "API docs by Redocly"
# link (followed only when clicked) and Swagger UI's markdown link targets.
INERT_HOSTS = {
    "www.w3.org",
    "json-schema.org",
    "spec.openapis.org",
    "datatracker.ietf.org",
    "www.rfc-editor.org",
    "raw.githubusercontent.com",  # ajv's $data meta-schema $id
    "github.com",
    "git.io",
    "fb.me",
    "reactjs.org",
    "redux.js.org",
    "stackoverflow.com",
    "marked.js.org",
    "spdx.org",
    "swagger.io",
    "vladimirgorej.com",
    "redocly.com",
    "example.com",
    "api.",
    "base",
    "twitter.com",
    "instagram.com",
    "www.facebook.com",
    "www.tiktok.com",
    "soundcloud.com",
}
# Hard-coded loads that the pages' CSP blocks before any request is made: Redoc's
# Redocly logo, and Swagger UI's validator badge (validatorUrl is also set to null).
CSP_BLOCKED_HOSTS = {"cdn.redoc.ly", "validator.swagger.io"}
# What drf-spectacular uses without the sidecar and its fonts: never to appear.
CDN_HOSTS = {"cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "fonts.googleapis.com", "fonts.gstatic.com"}


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in {"src", "href", "spec-url", "action", "data"}:
                self.urls.append(value)


def other_hosts(text: str) -> set[str]:
    return {m.group(1).lower() for m in URL.finditer(text)} - {"testserver"}


def fetch(path: str) -> tuple[str, str]:
    response = Api().get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.headers.get("content-type", ""), response.text


@pytest.mark.parametrize("page", PAGES)
def test_the_page_names_no_other_host(db, page):
    response = Api().get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert other_hosts(response.text) == set(), "the HTML itself must name no other host"
    references = _References()
    references.feed(response.text)
    assert references.urls, "the page loads its scripts from somewhere"
    for url in references.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is not on this server"


@pytest.mark.parametrize("page", PAGES)
def test_what_the_page_loads_is_served_here_and_names_only_known_hosts(db, page):
    references = _References()
    references.feed(fetch(page)[1])
    scripts = 0
    for url in references.urls:
        if url.endswith(".png"):
            continue
        content_type, text = fetch(url)
        hosts = other_hosts(text)
        if not url.startswith("/static/"):  # drf-spectacular's own start-up script
            assert hosts == set(), (url, hosts)
        assert not hosts & CDN_HOSTS, (url, hosts & CDN_HOSTS)
        assert hosts <= INERT_HOSTS | CSP_BLOCKED_HOSTS, (url, hosts - INERT_HOSTS - CSP_BLOCKED_HOSTS)
        scripts += "javascript" in content_type
    assert scripts >= 1


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_csp_admits_only_this_server(db, page):
    response = Api().get(page)
    policy = dict(
        (directive.split()[0], directive.split()[1:])
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == ["'self'"]
    for directive in ("script-src", "img-src", "font-src", "connect-src", "style-src"):
        for source in policy[directive]:
            assert source in {"'self'", "'unsafe-inline'", "data:", "blob:"}, (directive, source)
    assert "'unsafe-inline'" not in policy["script-src"]

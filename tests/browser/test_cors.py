"""A front end on another origin, in Chromium: with its origin in CORS_ALLOWED_ORIGINS it
logs in (a JSON POST, so a preflight), reads /me with the bearer token (another
preflight) and opens a socket; from an origin not listed, the browser refuses to hand
it either response (fetch rejects with a TypeError) and the socket closes with 4403.

The front end is tests/browser/front_end/, served by Python's http.server on other
loopback addresses than Parley's (127.0.0.1), so on other origins.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import PASSWORD, LiveServer, expect, unique

FRONT_END = Path(__file__).resolve().parent / "front_end"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticSite:
    """tests/browser/front_end/ on a free port of a loopback address, from a thread."""

    def __init__(self, address: str) -> None:
        self.httpd = ThreadingHTTPServer((address, 0), partial(_Quiet, directory=str(FRONT_END)))
        self.origin = f"http://{address}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@dataclass
class World:
    server: LiveServer
    listed: StaticSite
    unlisted: StaticSite


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Iterator[World]:
    # Addresses outside the server's ALLOWED_HOSTS, whose origins its sockets would
    # refuse by default: the listed one gets in through CORS_ALLOWED_ORIGINS alone.
    listed, unlisted = StaticSite("127.0.0.3"), StaticSite("127.0.0.2")
    server = LiveServer(tmp_path_factory.mktemp("parley-cors"), template_db, CORS_ALLOWED_ORIGINS=listed.origin)
    server.start()
    yield World(server, listed, unlisted)
    server.stop()
    listed.close()
    unlisted.close()


def run_front_end(browser: Any, site: StaticSite, server: LiveServer) -> dict[str, Any]:
    name = unique("front")
    account = server.register(name)
    query = urlencode({"parley": server.url, "username": name, "password": PASSWORD, "token": account["access"]})
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{site.origin}/index.html?{query}")
        expect(page.locator("body")).to_have_attribute("data-done", "true")
        result: dict[str, Any] = json.loads(page.locator("#result").text_content() or "{}")
        result["username"] = name
        return result
    finally:
        context.close()


def test_a_listed_origin_logs_in_reads_and_opens_a_socket(browser: Any, world: World) -> None:
    result = run_front_end(browser, world.listed, world.server)
    assert result["login"] == {"status": 200, "tokens": ["access", "refresh"]}, result
    assert result["me"] == {"status": 200, "username": result["username"]}, result
    assert result["socket"] == "ready", result


def test_an_unlisted_origin_gets_nothing(browser: Any, world: World) -> None:
    result = run_front_end(browser, world.unlisted, world.server)
    for step in ("login", "me"):
        assert result[step]["error"].startswith("TypeError"), result
    assert result["socket"] == "closed 4403", result

"""The web client's source keeps its promises without a browser: it never builds HTML
from strings (so user text cannot become markup), never puts a token in a socket URL,
and no module grows past 400 lines."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "server" / "web" / "static" / "web"
SOURCES = sorted(WEB.rglob("*.js"))
HTML_SINKS = re.compile(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(")


def test_there_is_a_client() -> None:
    assert len(SOURCES) > 10


def test_no_html_from_strings() -> None:
    offenders = [
        f"{p.relative_to(WEB)}:{n}"
        for p in SOURCES
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if HTML_SINKS.search(line)
    ]
    assert offenders == []


def test_no_token_in_a_socket_url() -> None:
    socket = (WEB / "socket.js").read_text()
    assert "new WebSocket(" in socket
    assert "token=" not in socket
    assert '{ type: "auth", token' in socket


def test_modules_stay_small() -> None:
    sizes = {str(p.relative_to(WEB)): len(p.read_text().splitlines()) for p in SOURCES}
    assert {name: size for name, size in sizes.items() if size > 400} == {}

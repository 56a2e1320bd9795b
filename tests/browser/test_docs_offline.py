"""The API docs pages render in Chromium with no request leaving for another host.

Every request the page makes that reaches the network passes through a route handler
here: one for another host is recorded and aborted. Loads that the page's CSP blocks
never reach the network (Redoc's hard-coded Redocly logo), so they are not requests
at all; tests/test_docs_offline.py reads the pages and bundles themselves.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveServer, expect


@pytest.mark.parametrize(
    ("path", "title"),
    [("/api/docs/", ".swagger-ui .info .title"), ("/api/redoc/", "h1")],
)
def test_the_docs_render_from_this_server_alone(browser: Any, parley_server: LiveServer, path: str, title: str) -> None:
    context = browser.new_context()
    elsewhere: list[str] = []
    here: list[str] = []

    def only_this_server(route: Any) -> None:
        url = route.request.url
        if url.startswith(parley_server.url + "/"):
            here.append(url)
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    context.route("**/*", only_this_server)
    try:
        page = context.new_page()
        page.goto(parley_server.url + path)
        expect(page.locator(title).first).to_contain_text("Parley API")
        expect(page.get_by_text("/api/auth/login/").first).to_be_attached()  # the schema was loaded
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert elsewhere == []
    assert any("/static/drf_spectacular_sidecar/" in url for url in here), here

"""A path without its trailing slash (SPEC section 9): served as if the slash were there,
or a JSON 404; never Django's APPEND_SLASH redirect (an HTML 301) or its RuntimeError.

Every route and method comes from the authorization matrix, whose own test proves it
covers every route: each is sent without the slash by its rightful caller and must get
exactly the status it gets with the slash.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, body
from tests.helpers import conv_url, send
from tests.test_authorization import CASES, world  # noqa: F401 - `world` is a fixture

PRIVILEGED = ("owner", "admin", "user")


def without_slash(path: str) -> str:
    route, _, query = path.partition("?")
    assert route.endswith("/"), path
    return route.rstrip("/") + (f"?{query}" if query else "")


@pytest.mark.parametrize("name", list(CASES))
def test_every_route_answers_without_its_slash(world, api, name):  # noqa: F811
    case = CASES[name]
    actor = next(a for a in PRIVILEGED if a in case.expected)
    user = world.user(actor)
    payload = case.body(world, user) if case.body else None
    path = case.url(world)
    if path.split("?")[0].endswith("/"):
        path = without_slash(path)

    extra: dict[str, Any] = {"json": payload} if payload is not None else {}
    if case.headers:
        extra["headers"] = case.headers
    response = api(user).request(case.method, path, **extra)

    assert response.status_code == case.expected[actor], (case.method, path, response.text[:300])
    assert "text/html" not in response.headers.get("content-type", "")
    if response.status_code == 204:
        assert response.content == b""
    elif case.route == "message-attachment":
        assert response.content.startswith(b"\x89PNG")
    else:
        body(response)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("debug", [False, True])
def test_no_redirect_and_no_runtime_error_under_debug_either(alice, bob, api, settings, method, debug):
    # Django's own slash handling, were it still on, would redirect (or raise under DEBUG).
    settings.DEBUG = debug
    settings.APPEND_SLASH = True
    client = api(alice)
    cid = body(client.post("/api/chat/conversations/start", json={"user2": bob.pk}))["id"]
    response = client.request(method, f"/api/chat/conversations/{cid}", json={"title": ""})
    assert response.status_code == {"DELETE": 204, "POST": 405}.get(method, 200), response.text[:300]
    if method != "DELETE":
        body(response)


def test_the_query_string_survives_and_links_carry_the_slash(alice, bob, api, direct):
    client = api(alice)
    for text in ("one", "two"):
        send(client, direct["id"], text)
    page = body(client.get(conv_url(direct["id"], "messages").rstrip("/") + "?page_size=1"))
    assert [m["content"] for m in page["results"]] == ["one"]
    assert "/messages/?" in page["next"]
    users = body(client.get("/api/users?search=bo"))
    assert [u["username"] for u in users] == ["bob"]


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path", ["/api/nope", "/api/chat/conversations/abc", "/api/chat/conversations/1/nope", "/api/auth/login/x"]
)
def test_a_path_that_matches_nothing_either_way_is_a_json_404(db, settings, debug, path):
    settings.DEBUG = debug
    for method in ("GET", "POST", "DELETE"):
        response = Api().request(method, path)
        assert response.status_code == 404, (method, path)
        assert body(response)["code"] == "not_found"

"""A request for a host the server does not serve gets a JSON 400 that says what to set,
not Django's DisallowedHost error page."""

from __future__ import annotations

import pytest

from tests.conftest import Api, body


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("path", "host"),
    [
        ("/api/limits/", "chat.example.com"),
        ("/api/auth/login/", "192.0.2.7:8000"),
        ("/", "chat.example.com"),
        ("/static/web/app.js", "chat.example.com"),
        ("/api/limits/", "bad host!"),
    ],
)
def test_a_host_not_in_allowed_hosts_is_a_json_400_naming_the_setting(db, settings, debug, path, host):
    settings.DEBUG = debug
    response = Api().get(path, headers={"Host": host})
    assert response.status_code == 400
    data = body(response)
    assert data["code"] == "disallowed_host"
    assert "ALLOWED_HOSTS" in data["detail"]


def test_the_reason_names_the_host_as_allowed_hosts_takes_it(db):
    detail = body(Api().get("/api/limits/", headers={"Host": "192.0.2.7:8123"}))["detail"]
    assert "'192.0.2.7:8123'" in detail and "add '192.0.2.7' to the ALLOWED_HOSTS setting" in detail


def test_listed_hosts_are_served(db, settings):
    settings.ALLOWED_HOSTS = ["chat.example.com"]
    assert Api().get("/api/limits/", headers={"Host": "chat.example.com"}).status_code == 200
    assert Api().get("/api/limits/", headers={"Host": "testserver"}).status_code == 400


def test_a_refused_host_still_reads_as_json_to_a_cors_front_end(db, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = Api().get("/api/limits/", headers={"Host": "elsewhere.example", "Origin": "https://app.example.com"})
    assert response.status_code == 400
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"

"""Registration's budget per IP: only accounts created count, and an attempt over the
budget is refused (429) before anything is read or checked. The embedded mode is for
trying Parley out, so its default budget is 100 an hour; production keeps 10."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from parley.conf import parley_settings
from server.accounts.models import User
from tests.conftest import PASSWORD, Api, body

ROOT = Path(__file__).resolve().parents[1]
REGISTER = "/api/auth/register/"


def register_limit_in(mode: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"RATE_LIMIT_REGISTER", "DEBUG"}}
    env.update({"DJANGO_SETTINGS_MODULE": "server.settings", "PARLEY_ENV": mode})
    if mode == "production":
        env.update(
            {
                "SECRET_KEY": "x" * 50,
                "DATABASE_URL": "postgres://parley@127.0.0.1:5432/unused",
                "REDIS_URL": "redis://127.0.0.1:6379/0",
                "ALLOWED_HOSTS": "chat.example.com",
            }
        )
    code = "from django.conf import settings; print(settings.RATE_LIMITS['register'])"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return run.stdout.strip()


@pytest.mark.parametrize(("mode", "limit"), [("development", "100/3600"), ("production", "10/3600")])
def test_the_default_register_budget_per_mode(mode, limit):
    assert register_limit_in(mode) == limit


@pytest.fixture
def three_an_hour(settings):
    settings.RATE_LIMITS_ENABLED = True
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS": {**parley_settings.RATE_LIMITS, "register": "3/3600"}}


def register(username: str, password: str = PASSWORD, **extra):
    return Api().post(REGISTER, json={"username": username, "password": password, **extra})


def test_failed_attempts_cost_nothing(db, make_user, three_an_hour):
    make_user("taken")
    failures = [
        register("weak", "123"),
        register("taken"),
        register("TAKEN"),
        register("bad name!"),
        register("fine", PASSWORD, email="not-an-email"),
    ] * 3
    assert {r.status_code for r in failures} == {400}
    created = [register(f"new{i}") for i in range(3)]
    assert [r.status_code for r in created] == [201, 201, 201]
    over = register("one-too-many")
    assert over.status_code == 429
    assert body(over)["code"] == "rate_limited" and int(over.headers["Retry-After"]) >= 1
    assert not User.objects.filter(username="one-too-many").exists()


def test_over_the_budget_is_refused_before_any_work(db, three_an_hour):
    for i in range(3):
        assert register(f"new{i}").status_code == 201
    # Neither validated (a 400 would say so) nor parsed (the body is not even JSON).
    for response in (
        register("weak", "123"),
        Api().post(REGISTER, content=b"{not json", headers={"Content-Type": "application/json"}),
    ):
        assert response.status_code == 429, response.text
        assert body(response)["code"] == "rate_limited"
    assert User.objects.count() == 3


def test_the_budget_is_per_ip(db, three_an_hour):
    for i in range(3):
        assert register(f"new{i}").status_code == 201
    other_ip = Api()
    other_ip._transport.client = ("127.0.0.2", 40000)
    created = other_ip.post(REGISTER, json={"username": "elsewhere", "password": PASSWORD})
    assert created.status_code == 201, created.text

"""End-to-end wiring for the web client: a real server process and Debian's Chromium.

    parley_server   uvicorn serving server.asgi on a free port, with its own SQLite
                    file and media folder; `restart()` stops and starts it on the same
                    port and database, as an operator's restart would
    browser         one headless Chromium per test worker (never a downloaded build)
    ui(...)         a fresh browser context + page with helpers for the client's screens

Tests here are marked `browser` and skip, with the reason, where /usr/bin/chromium or
the `playwright` package is missing.
"""

from __future__ import annotations

__all__ = ["UI", "LiveServer", "Route", "expect", "unique"]

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "parley-browser-test-9431"

try:
    from playwright.sync_api import Browser, Page, Playwright, Route, expect, sync_playwright
except ImportError:  # requirements-dev.txt pins it; without it every test here skips
    sync_playwright = None  # type: ignore[assignment]
    expect = Route = Browser = Page = Playwright = None  # type: ignore[assignment,misc]
else:
    # Generous for a loaded 2-core CI machine; passing assertions return at once.
    expect.set_options(timeout=10_000)

SKIP_REASON = (
    "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)"
    if not CHROMIUM.exists()
    else "browser tests need the `playwright` package (pip install -r requirements-dev.txt)"
)
BROWSER_AVAILABLE = CHROMIUM.exists() and sync_playwright is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if not BROWSER_AVAILABLE:
                item.add_marker(skip)


# --- The server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real `uvicorn server.asgi:application` process on its own database."""

    def __init__(self, workdir: Path, template_db: Path, **env: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        db = workdir / "db.sqlite3"
        shutil.copy(template_db, db)
        self.env = {**server_env(workdir, db), **env}
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "server.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--lifespan",
                "off",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within 30 s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    # REST shortcuts for setting up data the test is not about.

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def register(self, username: str) -> dict[str, Any]:
        """A user and a token pair, through the public API."""
        with self.api() as client:
            created = client.post("/api/auth/register/", json={"username": username, "password": PASSWORD})
            assert created.status_code == 201, created.text
            tokens = client.post("/api/auth/login/", json={"username": username, "password": PASSWORD})
            assert tokens.status_code == 200, tokens.text
        return {**created.json(), **tokens.json()}


def server_env(workdir: Path, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{db}",
            "MEDIA_ROOT": str(workdir / "media"),
            "STATIC_ROOT": str(workdir / "static"),
            "RATE_LIMITS_ENABLED": "false",
            # Small enough that a test can go over it without a big upload.
            "CHAT_MAX_ATTACHMENT_BYTES": str(1024 * 1024),
            "SECRET_KEY": "browser-tests-" + secrets.token_urlsafe(32),
            "PARLEY_ENV": "development",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            # Isolates the channel layer when the suite runs with REDIS_URL set.
            "CHANNEL_PREFIX": f"parley-browser-{secrets.token_hex(4)}",
            "CACHE_PREFIX": f"parley-browser-{secrets.token_hex(4)}",
        }
    )
    return env


def migrated_db(workdir: Path) -> Path:
    db = workdir / "template.sqlite3"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=server_env(workdir, db),
        check=True,
    )
    return db


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per test worker; every server starts from a copy."""
    return migrated_db(tmp_path_factory.mktemp("parley-template"))


@pytest.fixture(scope="session")
def parley_server(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("parley-server"), template_db)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_server(tmp_path: Path, template_db: Path) -> Iterator[LiveServer]:
    """A server of the test's own, for tests that restart it."""
    server = LiveServer(tmp_path, template_db)
    server.start()
    yield server
    server.stop()


# --- The browser ------------------------------------------------------------------------------------


# Module scope, not session: while Playwright's sync API is started, its event loop
# counts as running in this thread, and Django then refuses ORM calls
# (SynchronousOnlyOperation) in whatever test this worker runs next.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class UI:
    """One person's browser tab, with the steps the tests share."""

    def __init__(self, page: Page, server: LiveServer, username: str) -> None:
        self.page = page
        self.server = server
        self.username = username
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: self.errors.append(f"console: {message.text}") if message.type == "error" else None,
        )
        # The client must never need what the page's CSP forbids (inline code or styles).
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', (e) =>"
            " (window.__cspViolations = window.__cspViolations || []).push(e.violatedDirective));"
        )

    def open(self, path: str = "/") -> UI:
        self.page.goto(self.server.url + path)
        return self

    def register(self) -> UI:
        page = self.page
        page.get_by_role("tab", name="Create account").click()
        page.get_by_label("Username").fill(self.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        self.expect_connected()
        return self

    def login(self) -> UI:
        page = self.page
        page.get_by_label("Username").fill(self.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("form.auth-form").get_by_role("button", name="Log in").click()
        self.expect_connected()
        return self

    def login_with_api(self) -> UI:
        """Register through the API and hand the tokens to the page, as a returning user."""
        pair = self.server.register(self.username)
        self.page.evaluate(
            "pair => localStorage.setItem('parley.tokens', JSON.stringify(pair))",
            {"access": pair["access"], "refresh": pair["refresh"]},
        )
        self.page.reload()
        self.expect_connected()
        self.user_id = pair["id"]
        self.access = pair["access"]
        return self

    def expect_connected(self) -> None:
        expect(self.page.locator("#connection")).to_have_attribute("data-state", "open", timeout=20_000)

    def start_direct(self, other: str) -> None:
        page = self.page
        page.get_by_role("button", name="New chat").click()
        page.get_by_label("Find a person by username").fill(other)
        page.locator(f'.user-result[data-username="{other}"]').click()
        expect(page.locator("#conversation-title")).to_have_text(other)

    def open_conversation(self, name: str) -> None:
        self.page.locator(".conversation", has_text=name).first.click()
        expect(self.page.locator("#conversation-title")).to_have_text(name)

    def send(self, text: str) -> None:
        composer = self.page.get_by_label("Message", exact=True)
        composer.fill(text)
        composer.press("Enter")

    def message(self, text: str) -> Any:
        return self.page.locator(".message:not(.pending)", has=self.page.locator(".text", has_text=text))

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    def assert_no_errors(self, *expected: str) -> None:
        """No script errors; console lines containing one of `expected` are allowed."""
        real = [e for e in self.errors if not any(x in e for x in expected)]
        assert not real, real
        assert self.page.evaluate("() => window.__cspViolations || []") == []


@pytest.fixture
def ui(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., UI]]:
    """`ui("alice")` opens a new browser context on the client at `/` of the shared
    server (or of `server=`)."""
    contexts = []

    def make(username: str, *, server: LiveServer | None = None, path: str = "/", **context_args: Any) -> UI:
        context_args.setdefault("viewport", {"width": 1200, "height": 780})
        context_args.setdefault("timezone_id", "Europe/Berlin")
        context_args.setdefault("locale", "en-GB")
        context = browser.new_context(**context_args)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return UI(context.new_page(), server or request.getfixturevalue("parley_server"), username).open(path)

    yield make
    for context in contexts:
        context.close()


def unique(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(3)}"

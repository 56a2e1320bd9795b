"""Regenerate docs/screenshot.png: `.venv/bin/python -m tests.browser.screenshot`.

Starts a throwaway server, writes a short conversation through the public API, and
photographs Alice's browser at a desktop width.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, LiveServer, migrated_db


def gradient_png(width: int = 360, height: int = 220) -> bytes:
    """A small landscape-like picture, made here so the repository ships no binary."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            sky = y < height * 0.62
            t = y / height
            if sky:
                pixel = (int(90 + 120 * t), int(150 + 80 * t), 235)
            else:
                hill = int(40 * ((x / width) - 0.5) ** 2 * 4)
                pixel = (40 + hill, int(120 + 60 * (1 - t)), 70)
            row += bytes(pixel)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        server = LiveServer(workdir, migrated_db(workdir), CHAT_MAX_ATTACHMENT_BYTES=str(25 * 1024 * 1024))
        server.start()
        try:
            alice, bob, carol = (server.register(name) for name in ("alice", "bob", "carol"))
            auth = {name: server.api(user["access"]) for name, user in (("a", alice), ("b", bob), ("c", carol))}
            group = (
                auth["a"]
                .post(
                    "/api/chat/conversations/", json={"title": "Weekend hike", "participants": [bob["id"], carol["id"]]}
                )
                .json()
            )
            direct = auth["c"].post("/api/chat/conversations/start/", json={"user2": alice["id"]}).json()
            auth["c"].post(
                f"/api/chat/conversations/{direct['id']}/send_message/", json={"content": "Did you get the tickets?"}
            )
            send = f"/api/chat/conversations/{group['id']}/send_message/"
            auth["a"].post(send, json={"content": "Who is in for Saturday? Forecast says sunny."})
            auth["b"].post(send, json={"content": "Count me in! Same trail as last time?"})
            auth["c"].post(send, files={"attachment": ("ridge.png", gradient_png(), "image/png")})
            auth["c"].post(send, json={"content": "How about this ridge? About 14 km, 600 m up."})
            auth["b"].post(send, files={"attachment": ("trail-map.pdf", b"%PDF-1.4 map", "application/pdf")})

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1280, "height": 760}, locale="en-GB").new_page()
                page.goto(server.url + "/")
                page.evaluate(
                    "pair => localStorage.setItem('parley.tokens', JSON.stringify(pair))",
                    {"access": alice["access"], "refresh": alice["refresh"]},
                )
                page.goto(f"{server.url}/#/c/{group['id']}")
                page.reload()
                expect(page.locator("#connection")).to_have_attribute("data-state", "open")
                page.wait_for_function("() => document.querySelector('img.attachment-image')?.naturalWidth > 0")
                composer = page.get_by_label("Message", exact=True)
                composer.fill("Perfect, I'll bring snacks")
                page.wait_for_timeout(300)
                target = ROOT / "docs" / "screenshot.png"
                page.screenshot(path=str(target))
                browser.close()
                print(f"wrote {target.relative_to(ROOT)}")
        finally:
            for client in auth.values():
                client.close()
            server.stop()


if __name__ == "__main__":
    main()

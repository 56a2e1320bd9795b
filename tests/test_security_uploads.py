"""Hostile uploads: none is served inline as active content, none escapes the storage root.

A corpus of polyglots (image headers in front of HTML or script), SVG with script,
HTML, XML, scripts, wrong declared types, path traversal and header injection in file
names, huge names, an empty file, a file exactly at the 25 MiB limit and one byte over.
Every accepted file is downloaded by a participant and its headers are checked:

- inline only as a raster image type recognised by its bytes, always with `nosniff`
  and a sandboxing Content-Security-Policy; everything else is an octet-stream download;
- the shown name has no path, no control character, at most 200 bytes;
- the stored file sits under MEDIA_ROOT/attachments under a random hex name, and
  nothing else appears anywhere under the test's directory.

Figures: uploads, served inline as active content (0), storage escapes (0), the
over-limit upload's status (413) and files it left (0).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings

from parley.conf import parley_settings
from parley.models import Message
from server.accounts.models import User
from tests.conftest import body
from tests.figures import record
from tests.helpers import conv_url

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff\xe0"
GIF = b"GIF89a"
SCRIPT = b"<script>alert(document.domain)</script>"
HTML = b"<!doctype html><html><body>" + SCRIPT + b"</body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">' + SCRIPT + b"</svg>"

CORPUS: list[tuple[str, bytes, str]] = [
    ("gif-js-polyglot.gif", GIF + b"/*\x00\x00*/=1;alert(document.domain)//" + SCRIPT, "image/gif"),
    ("png-html-polyglot.png", PNG + b"\x00\x00\x00\x0dIHDR" + HTML, "image/png"),
    ("jpeg-html-polyglot.jpg", JPEG + HTML, "image/jpeg"),
    ("html-then-png.png", HTML + PNG, "image/png"),
    ("drawing.svg", SVG, "image/svg+xml"),
    ("drawing-as-png.png", SVG, "image/png"),
    ("page.html", HTML, "text/html"),
    ("page.htm", HTML, "text/html; charset=utf-7"),
    (
        "page.xhtml",
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">' + SCRIPT + b"</html>",
        "application/xhtml+xml",
    ),
    (
        "feed.xml",
        b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>',
        "text/xml",
    ),
    ("script.js", b"alert(document.cookie)", "application/javascript"),
    ("module.mjs", b"export default 1", "text/javascript"),
    ("style.css", b"body{background:url(javascript:alert(1))}", "text/css"),
    ("program.exe", b"MZ\x90\x00" + b"\x00" * 60, "application/x-msdownload"),
    ("flash.swf", b"FWS\x09" + b"\x00" * 16, "application/x-shockwave-flash"),
    ("doc.pdf", b"%PDF-1.7\n/JS (app.alert(1))", "application/pdf"),
    ("html-declared-as-text.txt", HTML, "text/plain"),
    ("png-declared-as-html.html", PNG + b"\x00" * 16, "text/html"),
    ("../../../../etc/passwd", b"root:x:0:0", "text/plain"),
    ("..\\..\\..\\windows\\win.ini", b"[fonts]", "text/plain"),
    ("/etc/shadow", b"root:*:", "text/plain"),
    ("....//....//escape.txt", b"dots", "text/plain"),
    ("%2e%2e%2f%2e%2e%2fencoded.txt", b"encoded", "text/plain"),
    ("C:\\Windows\\System32\\drivers\\etc\\hosts", b"127.0.0.1", "text/plain"),
    ("~/.ssh/authorized_keys", b"ssh-ed25519 AAAA", "text/plain"),
    ("header\r\nX-Injected: yes\r\n.txt", b"crlf", "text/plain"),
    ('quote".html', HTML, "text/html"),
    ("x" * 800 + ".png", PNG + b"\x00" * 8, "image/png"),
    ("\u20ac" * 250 + ".txt", b"wide", "text/plain"),
    # Over the multipart parser's 1 KiB limit for a part's headers: refused with a JSON 400.
    ("y" * 10_000 + ".png", PNG + b"\x00" * 8, "image/png"),
    ("\u20ac" * 5_000 + ".txt", b"wide", "text/plain"),
    ("\u202egnp.exe", b"MZ", "application/octet-stream"),
    (".htaccess", b"AddType text/html .png", "text/plain"),
]
INLINE_OK = {"image/png", "image/jpeg", "image/gif", "image/webp"}
STORED_NAME = re.compile(r"attachments/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}")


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def upload(client: Any, conversation_id: int, name: str, data: bytes, content_type: str) -> Any:
    return client.post(conv_url(conversation_id, "send_message"), files={"attachment": (name, data, content_type)})


def served_as_active_content(headers: Any) -> list[str]:
    """What is wrong with a download's headers, if anything."""
    problems = []
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    disposition = headers.get("Content-Disposition", "")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if "sandbox" not in headers.get("Content-Security-Policy", ""):
        problems.append("no sandbox CSP")
    if disposition.startswith("inline") and content_type not in INLINE_OK:
        problems.append(f"inline as {content_type}")
    if not disposition.startswith("inline") and content_type != "application/octet-stream":
        problems.append(f"download typed {content_type}")
    if content_type not in INLINE_OK | {"application/octet-stream"}:
        problems.append(f"type {content_type}")
    return problems


def test_hostile_uploads(alice: User, bob: User, api: Any, direct: dict[str, Any], tmp_path: Path) -> None:
    media = Path(django_settings.MEDIA_ROOT)
    before_elsewhere = files_under(tmp_path) - files_under(media)
    sender, reader = api(alice), api(bob)
    active, escapes, bad_names, accepted, refused = [], [], [], 0, 0

    for name, data, declared in CORPUS:
        files_before = files_under(media)
        response = upload(sender, direct["id"], name, data, declared)
        if response.status_code == 400 and len(name.encode()) > 1000:  # refused: a JSON reason, nothing stored
            assert body(response)["code"], response.text
            assert files_under(media) == files_before
            refused += 1
            continue
        assert response.status_code == 201, (name[:40], response.status_code, response.text[:200])
        accepted += 1
        message = body(response)
        assert message["attachment_size"] == len(data)
        download = reader.get(message["attachment"])
        assert download.status_code == 200 and download.content == data
        active += [f"{name[:40]}: {p}" for p in served_as_active_content(download.headers)]
        shown = message["attachment_name"]
        disposition = download.headers["Content-Disposition"]
        if "/" in shown or "\\" in shown or len(shown.encode()) > 200 or any(ord(c) < 32 for c in shown):
            bad_names.append(f"{name[:40]} shown as {shown[:60]!r}")
        if "\r" in disposition or "\n" in disposition or "X-Injected" in download.headers:
            bad_names.append(f"{name[:40]}: header injection")
        stored = Message.objects.get(pk=message["id"]).attachment.name
        path = (media / "attachments" / stored).resolve()
        if not path.is_relative_to((media / "attachments").resolve()) or not path.is_file():
            escapes.append(f"{name[:40]} stored at {path}")

    for path in files_under(media):
        if not STORED_NAME.fullmatch(path.relative_to(media).as_posix()):
            escapes.append(f"unexpected file in the media root: {path}")
    elsewhere = files_under(tmp_path) - files_under(media) - before_elsewhere
    escapes += [f"written outside the media root: {p}" for p in elsewhere]

    # Zero bytes: refused, nothing stored.
    files_before = files_under(media)
    empty = upload(sender, direct["id"], "empty.txt", b"", "text/plain")
    assert empty.status_code == 400 and body(empty)["code"] == "empty_attachment"
    assert files_under(media) == files_before

    # The size limit, at it and one byte over: 413, and no file, no message left.
    limit = parley_settings.MAX_ATTACHMENT_BYTES
    count = Message.objects.count()
    at_limit = upload(sender, direct["id"], "at-limit.bin", b"\x00" * limit, "application/octet-stream")
    assert at_limit.status_code == 201
    files_before = files_under(media)
    over = upload(sender, direct["id"], "over-limit.bin", b"\x00" * (limit + 1), "application/octet-stream")
    assert over.status_code == 413 and body(over)["code"] == "too_large"
    left = files_under(media) - files_before
    assert Message.objects.count() == count + 1

    record(
        "uploads",
        hostile_uploads=len(CORPUS),
        accepted=accepted,
        refused_with_400=refused,
        served_inline_as_active_content=len(active),
        storage_escapes=len(escapes),
        unsafe_names=len(bad_names),
        zero_byte=empty.status_code,
        limit_bytes=limit,
        at_limit=at_limit.status_code,
        one_over=over.status_code,
        files_left_by_the_refused_upload=len(left),
    )
    assert active == [], active
    assert escapes == [], escapes
    assert bad_names == [], bad_names
    assert left == set()
    assert refused == 2  # the two names over the multipart parser's header limit

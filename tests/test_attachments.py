"""Attachments: private, renamed, typed by content, never served as active content."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.models import Message
from tests.conftest import body
from tests.helpers import conv_url, msg_url

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload(client, conversation_id: int, name: str, data: bytes, content_type: str, **form: str):
    return client.post(
        conv_url(conversation_id, "send_message"), data=form, files={"attachment": (name, data, content_type)}
    )


def upload_raw_name(client, conversation_id: int, quoted_name: bytes, data: bytes):
    """A multipart upload whose filename parameter is sent byte for byte (httpx would
    percent-encode quotes and control characters)."""
    boundary = b"parley-test-boundary"
    payload = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="attachment"; filename="' + quoted_name + b'"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + data + b"\r\n--" + boundary + b"--\r\n"
    )
    return client.post(
        conv_url(conversation_id, "send_message"),
        content=payload,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"},
    )


def test_upload_and_download_by_a_participant(alice, bob, api, direct, settings):
    response = upload(api(alice), direct["id"], "report.pdf", b"%PDF-1.4 body", "application/pdf", content="see")

    assert response.status_code == 201
    message = body(response)
    assert message["attachment"] == f"/api/chat/messages/{message['id']}/attachment/"
    assert message["attachment_name"] == "report.pdf"
    assert message["attachment_size"] == len(b"%PDF-1.4 body")
    [stored] = media_files(settings)
    assert stored.read_bytes() == b"%PDF-1.4 body"
    # Random, extension-less storage name: nothing of the upload's name survives.
    assert "report" not in str(stored)
    assert stored.suffix == ""

    download = api(bob).get(message["attachment"])

    assert download.status_code == 200
    assert download.content == b"%PDF-1.4 body"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"] == 'attachment; filename="report.pdf"'


@pytest.mark.filterwarnings("error:StreamingHttpResponse must consume")
def test_a_large_download_streams_in_chunks(alice, bob, api, direct):
    data = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and a bit: many chunks
    message = body(upload(api(alice), direct["id"], "big.bin", data, "application/octet-stream"))

    download = api(bob).get(message["attachment"])

    assert download.status_code == 200
    assert download.headers["Content-Length"] == str(len(data))
    assert download.content == data


def test_strangers_and_anonymous_cannot_download(alice, carol, api, direct):
    message = body(upload(api(alice), direct["id"], "a.pdf", b"private", "application/pdf"))

    stranger = api(carol).get(message["attachment"])
    assert stranger.status_code == 404
    assert b"private" not in stranger.content
    body(stranger)
    anonymous = api(None).get(message["attachment"])
    assert anonymous.status_code == 401
    assert b"private" not in anonymous.content
    body(anonymous)


def test_media_files_have_no_public_url(alice, api, direct, settings):
    upload(api(alice), direct["id"], "a.pdf", b"private", "application/pdf")
    [stored] = media_files(settings)
    relative = stored.relative_to(settings.MEDIA_ROOT).as_posix()

    for prefix in ("/media/", settings.MEDIA_URL, "/static/"):
        response = api(alice).get(prefix + relative)
        assert response.status_code == 404
        assert b"private" not in response.content


def test_a_message_without_a_file_has_no_attachment(alice, api, direct):
    sent = body(api(alice).post(conv_url(direct["id"], "send_message"), json={"content": "text"}))
    assert sent["attachment"] is None
    assert api(alice).get(msg_url(sent["id"], "attachment")).status_code == 404


def test_images_are_shown_inline(alice, bob, api, direct):
    message = body(upload(api(alice), direct["id"], "cat.png", PNG, "image/png"))

    download = api(bob).get(message["attachment"])

    assert download.status_code == 200
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["Content-Disposition"] == 'inline; filename="cat.png"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.content == PNG


@pytest.mark.parametrize(
    ("name", "data", "claimed"),
    [
        ("page.html", HTML, "text/html"),
        ("drawing.svg", SVG, "image/svg+xml"),
        ("fake.png", HTML, "image/png"),  # the type comes from the bytes, not the claim
        ("script.js", b"alert(1)", "application/javascript"),
    ],
)
def test_active_content_is_only_ever_a_download(alice, bob, api, direct, name, data, claimed):
    message = body(upload(api(alice), direct["id"], name, data, claimed))

    download = api(bob).get(message["attachment"])

    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert message["attachment_type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("uploaded", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("/absolute/path/notes.txt", "notes.txt"),
        (".hidden", "hidden"),
        ("...", "attachment"),
        ("x" * 300 + ".txt", "x" * 196 + ".txt"),
    ],
)
def test_file_names_are_sanitised(alice, bob, api, direct, uploaded, shown):
    message = body(upload(api(alice), direct["id"], uploaded, b"data", "text/plain"))

    assert message["attachment_name"] == shown
    download = api(bob).get(message["attachment"])
    assert download.headers["Content-Disposition"] == f'attachment; filename="{shown}"'


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"tab\tand\x07bell\x1b.txt", "tabandbell.txt"),
        ("caf\u00e9\u202e.txt".encode(), "caf\u00e9.txt"),  # no right-to-left override
        (b"..\\..\\boot.ini", "boot.ini"),
    ],
)
def test_control_characters_are_dropped_from_names(alice, bob, api, direct, raw, shown):
    response = upload_raw_name(api(alice), direct["id"], raw, b"data")

    assert response.status_code == 201, response.text
    message = body(response)
    assert message["attachment_name"] == shown
    disposition = api(bob).get(message["attachment"]).headers["Content-Disposition"]
    assert "\t" not in disposition
    assert "\x07" not in disposition


def test_quotes_and_unicode_in_names_are_encoded(alice, bob, api, direct):
    quoted = body(upload_raw_name(api(alice), direct["id"], b'say \\"hi\\".txt', b"q"))
    assert quoted["attachment_name"] == 'say "hi".txt'
    disposition = api(bob).get(quoted["attachment"]).headers["Content-Disposition"]
    assert disposition == 'attachment; filename="say \\"hi\\".txt"'

    accented = body(upload(api(alice), direct["id"], "résumé.pdf", b"r", "application/pdf"))
    assert accented["attachment_name"] == "résumé.pdf"
    disposition = api(bob).get(accented["attachment"]).headers["Content-Disposition"]
    assert disposition == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"


def test_over_the_limit_is_413_and_leaves_no_file(alice, api, direct, settings):
    settings.PARLEY = {**settings.PARLEY, "MAX_ATTACHMENT_BYTES": 1000}

    response = upload(api(alice), direct["id"], "big.bin", b"x" * 1001, "application/octet-stream", content="big")

    assert response.status_code == 413
    assert "detail" in body(response)
    assert media_files(settings) == []
    assert not Message.objects.exists()
    ok = upload(api(alice), direct["id"], "fits.bin", b"x" * 1000, "application/octet-stream")
    assert ok.status_code == 201


def test_a_request_body_over_the_limit_is_413_before_it_is_read(alice, api, direct, settings):
    settings.MAX_REQUEST_BYTES = 10_000

    response = upload(api(alice), direct["id"], "big.bin", b"x" * 20_000, "application/octet-stream")

    assert response.status_code == 413
    assert "detail" in body(response)
    assert media_files(settings) == []
    assert not Message.objects.exists()


def test_an_empty_file_is_refused(alice, api, direct, settings):
    response = upload(api(alice), direct["id"], "empty.txt", b"", "text/plain")
    assert response.status_code == 400
    assert "attachment" in body(response)
    assert media_files(settings) == []


def test_a_refused_send_leaves_no_file(alice, carol, api, direct, settings):
    too_long = upload(api(alice), direct["id"], "a.txt", b"data", "text/plain", content="y" * 10_001)
    assert too_long.status_code == 400
    stranger = upload(api(carol), direct["id"], "a.txt", b"data", "text/plain")
    assert stranger.status_code == 403
    assert media_files(settings) == []
    assert not Message.objects.exists()


def test_delete_message_removes_the_file_after_commit(
    alice, bob, api, direct, settings, django_capture_on_commit_callbacks
):
    message = body(upload(api(alice), direct["id"], "doc.pdf", b"to be erased", "application/pdf"))
    [stored] = media_files(settings)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert api(alice).post(msg_url(message["id"], "delete_message")).status_code == 200
    assert stored.exists()  # the transaction has not committed yet

    for callback in callbacks:
        callback()

    assert not stored.exists()
    row = Message.objects.get(pk=message["id"])
    assert (row.attachment.name, row.attachment_name, row.attachment_size) == ("", "", None)
    assert api(alice).get(message["attachment"]).status_code == 404
    assert api(bob).get(message["attachment"]).status_code == 404


def test_deleting_a_group_removes_its_files_after_commit(alice, bob, api, settings, django_capture_on_commit_callbacks):
    group = body(api(alice).post("/api/chat/conversations/", json={"participants": [bob.pk], "title": "g"}))
    upload(api(bob), group["id"], "a.pdf", b"one", "application/pdf")
    upload(api(alice), group["id"], "b.pdf", b"two", "application/pdf")
    assert len(media_files(settings)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert api(alice).delete(conv_url(group["id"])).status_code == 204

    assert media_files(settings) == []
    assert not Message.objects.exists()


def test_a_file_missing_from_storage_is_404_not_500(alice, bob, api, direct, settings):
    message = body(upload(api(alice), direct["id"], "a.pdf", b"soon gone", "application/pdf"))
    for path in media_files(settings):
        path.unlink()

    response = api(bob).get(message["attachment"])

    assert response.status_code == 404
    assert "detail" in body(response)

"""Attachments on S3-compatible object storage (a real SeaweedFS), still private.

The round trip with authorization, in both download modes: upload; the participant
gets the file (streamed through Parley, or by a 302 to a presigned URL that expires);
a stranger and an anonymous client get neither the file nor a URL; the object itself
is not readable without a signature; deleting the message removes the object; the
orphan sweep walks the bucket. One test also runs a live server configured only from
the environment (STORAGE_BACKEND=s3 ...), as an operator would.
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from parley.models import Message
from parley.storage import attachment_storage
from tests.conftest import body
from tests.helpers import conv_url, msg_url
from tests.livestack import LiveStack, live_stack  # noqa: F401
from tests.seaweed import SeaweedS3, seaweed_s3  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bucket(seaweed_s3: SeaweedS3, settings: Any) -> str:  # noqa: F811
    name = seaweed_s3.bucket()
    settings.STORAGES = {**settings.STORAGES, "attachments": seaweed_s3.storages_setting(name)}
    settings.PARLEY = {**settings.PARLEY, "ATTACHMENT_STORAGE": "attachments"}
    return name


def upload(api: Any, user: Any, cid: int, data: bytes, name: str = "report.pdf") -> int:
    response = api(user).post(
        conv_url(cid, "send_message"), data={"content": "file"}, files={"attachment": (name, data, "application/pdf")}
    )
    assert response.status_code == 201, response.text
    return int(body(response)["id"])


def test_round_trip_streamed_through_parley(
    seaweed_s3: SeaweedS3,  # noqa: F811
    bucket: str,
    alice: Any,
    bob: Any,
    carol: Any,
    direct: dict[str, Any],
    api: Any,
) -> None:
    data = os.urandom(300_000)
    message_id = upload(api, alice, direct["id"], data)
    keys = seaweed_s3.keys(bucket)
    assert len(keys) == 1 and keys[0].startswith("attachments/")
    assert keys[0] == "attachments/" + Message.objects.get(pk=message_id).attachment.name
    # Private: the object is not readable without a signature.
    assert httpx.get(f"{seaweed_s3.endpoint}/{bucket}/{keys[0]}").status_code == 403

    got = api(bob).get(msg_url(message_id, "attachment"))
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == 'attachment; filename="report.pdf"'
    assert got.headers["content-length"] == str(len(data))

    for stranger in (api(carol), api(None)):
        refused = stranger.get(msg_url(message_id, "attachment"))
        assert refused.status_code in (401, 403, 404) and "location" not in refused.headers
        assert seaweed_s3.endpoint not in refused.text and "X-Amz" not in refused.text

    assert api(alice).post(msg_url(message_id, "delete_message")).status_code == 200
    assert seaweed_s3.keys(bucket) == []
    assert api(bob).get(msg_url(message_id, "attachment")).status_code == 404


def test_round_trip_by_presigned_redirect_that_expires(
    seaweed_s3: SeaweedS3,  # noqa: F811
    bucket: str,
    alice: Any,
    bob: Any,
    carol: Any,
    direct: dict[str, Any],
    api: Any,
    settings: Any,
) -> None:
    settings.PARLEY = {**settings.PARLEY, "ATTACHMENT_DOWNLOADS": "redirect", "ATTACHMENT_URL_SECONDS": 2}
    data = os.urandom(200_000)
    message_id = upload(api, alice, direct["id"], data, name="notes.txt")

    redirect = api(bob).get(msg_url(message_id, "attachment"))
    assert redirect.status_code == 302, redirect.text
    location = redirect.headers["location"]
    assert location.startswith(f"{seaweed_s3.endpoint}/{bucket}/attachments/") and "X-Amz-Expires=2" in location
    assert redirect.headers["cache-control"] == "private, no-store"
    fetched = httpx.get(location)
    assert fetched.status_code == 200 and fetched.content == data
    assert fetched.headers["content-disposition"] == 'attachment; filename="notes.txt"'
    assert fetched.headers["content-type"] == "application/octet-stream"

    for stranger in (api(carol), api(None)):
        refused = stranger.get(msg_url(message_id, "attachment"))
        assert refused.status_code in (401, 403, 404) and "location" not in refused.headers
        assert "X-Amz" not in refused.text

    time.sleep(3)
    assert httpx.get(location).status_code == 403  # expired
    assert api(alice).post(msg_url(message_id, "delete_message")).status_code == 200
    assert seaweed_s3.keys(bucket) == []


def test_orphan_sweep_walks_the_bucket(
    seaweed_s3: SeaweedS3,  # noqa: F811
    bucket: str,
    alice: Any,
    direct: dict[str, Any],
    api: Any,
) -> None:
    message_id = upload(api, alice, direct["id"], b"kept")
    kept = Message.objects.get(pk=message_id).attachment.name
    orphan = attachment_storage.save("ab/cd/orphan-file", ContentFile(b"orphan"))
    assert len(seaweed_s3.keys(bucket)) == 2
    call_command("cleanup_attachments", min_age=3600, stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert len(seaweed_s3.keys(bucket)) == 2  # too young to be an orphan for sure
    call_command("cleanup_attachments", min_age=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert seaweed_s3.keys(bucket) == [f"attachments/{kept}"]
    assert not attachment_storage.exists(orphan)


def test_live_server_configured_from_the_environment(
    seaweed_s3: SeaweedS3,  # noqa: F811
    live_stack: LiveStack,  # noqa: F811
    alice: Any,
    bob: Any,
    carol: Any,
    direct: dict[str, Any],
) -> None:
    from tests.ws import token_for

    bucket = seaweed_s3.bucket()
    server = live_stack.start_server(redis_url=None, **seaweed_s3.env(bucket))
    data = os.urandom(1024 * 1024)
    with server.api(token_for(alice)) as client:
        sent = client.post(
            conv_url(direct["id"], "send_message"), data={"content": "x"}, files={"attachment": ("big.bin", data)}
        )
    assert sent.status_code == 201, sent.text
    assert len(seaweed_s3.keys(bucket)) == 1
    with server.api(token_for(bob)) as client:
        got = client.get(msg_url(sent.json()["id"], "attachment"))
    assert got.status_code == 200 and got.content == data
    with server.api(token_for(carol)) as client:
        assert client.get(msg_url(sent.json()["id"], "attachment")).status_code == 404  # not in your conversations

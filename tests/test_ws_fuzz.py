"""Fuzzing the WebSocket command parser: hostile frames never crash a socket.

Hypothesis generates frames (random text, random JSON, and frames built from the real
command names with hostile field values) and sends them through the real ASGI app.
Promise checked (docs/security.md): 0 `server_error` frames, 0 unexpected closes, and
nothing invalid stored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.conf import parley_settings
from parley.models import Message
from parley.services.conversations import conversation_start_direct
from tests.ws import Socket, token_for

pytestmark = pytest.mark.django_db(transaction=True)

COMMANDS = [
    "message.send",
    "message.edit",
    "message.delete",
    "message.read",
    "typing",
    "ping",
    "auth",
    "read",
    "edit",
    "delete",
    "send",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.sampled_from(["", "\x00", "0", "-1", "1e309", "NaN", "<script>", "../../etc/passwd", "9" * 40]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
command_frames = st.fixed_dictionaries(
    {"type": st.sampled_from(COMMANDS)},
    optional={
        "content": json_values,
        "message_id": json_values,
        "conversation": json_values,
        "client_id": json_values,
        "is_typing": json_values,
        "ref": json_values,
        "token": json_values,
    },
)


def encode(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


any_type_frames = st.fixed_dictionaries({"type": json_values}, optional={"content": json_values, "ref": json_values})

frames = st.one_of(
    command_frames.map(encode),
    any_type_frames.map(encode),
    json_values.map(encode),
    st.text(max_size=200),
    st.dictionaries(st.text(max_size=10), json_values, max_size=5).map(encode),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(frames, min_size=1, max_size=12))
def test_hostile_frames_never_crash_the_socket(alice, bob, settings, batch):
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS_ENABLED": False}
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS": {**parley_settings.RATE_LIMITS, "ws_command": "10000/1"}}
    conversation, _ = conversation_start_direct(user=alice, other_user_id=bob.pk)
    token = token_for(alice)

    async def run() -> list[dict[str, Any]]:
        sock = Socket.for_user(token, conversation.pk)
        await sock.open()
        replies = []
        for raw in batch:
            await sock.send_raw(raw)
        await sock.send({"type": "ping", "ref": "alive"})
        while True:
            frame = await sock.receive(timeout=5)
            replies.append(frame)
            if frame["type"] in ("pong", "__closed__") and frame.get("ref") == "alive":
                break
            assert frame["type"] != "__closed__", f"socket closed with {frame['code']}"
        await sock.close()
        return replies

    replies = async_to_sync(run)()
    assert not [r for r in replies if r.get("code") == "server_error"]
    for content in Message.objects.values_list("content", flat=True):
        assert isinstance(content, str) and 0 < len(content) <= 10_000 and "\x00" not in content


async def test_fuzzed_frames_store_nothing_without_a_valid_send(alice, bob):
    conversation, _ = await database_sync_to_async(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    sock = Socket.for_user(await database_sync_to_async(token_for)(alice), conversation.pk)
    await sock.open()
    for raw in ('{"type": "message.send"}', '{"type": "message.send", "content": ["x"]}', '{"content": null}'):
        await sock.send_raw(raw)
        assert (await sock.receive_until("error"))["code"] in {"empty_message", "invalid_type"}
    assert await database_sync_to_async(Message.objects.count)() == 0
    await sock.close()


@pytest.mark.parametrize(
    ("frame", "limit"),
    [
        ("[" * 60_000, None),  # under the default 64 KiB limit
        ("[" * 100_000, 200_000),
        ('{"a":' * 50_000 + "1" + "}" * 50_000, 600_000),
        ('{"type": "message.send", "content": ' + "[" * 30_000 + "]" * 30_000 + "}", None),
    ],
    ids=["arrays-60k", "arrays-100k", "objects-50k", "nested-content"],
)
async def test_deeply_nested_json_gets_an_error_frame_and_the_socket_stays_open(alice, bob, settings, frame, limit):
    if limit is not None:
        settings.PARLEY = {**settings.PARLEY, "WS_MAX_FRAME_BYTES": limit}
    conversation, _ = await database_sync_to_async(conversation_start_direct)(user=alice, other_user_id=bob.pk)
    sock = Socket.for_user(await database_sync_to_async(token_for)(alice), conversation.pk)
    await sock.open()
    await sock.send_raw(frame)
    error = await sock.receive()
    assert error["type"] == "error" and error["code"] == "invalid_json", error
    await sock.send({"type": "ping", "ref": "alive"})
    assert await sock.receive() == {"type": "pong", "ref": "alive"}
    assert await database_sync_to_async(Message.objects.count)() == 0
    await sock.close()

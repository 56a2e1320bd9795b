"""The plain parts of parley.realtime on their own: the command budget, the inbox that
merges the client with the channel layer, typing and presence filters, the protocol's
parsers. The socket suites (tests/test_websocket.py and others) run them wired."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from parley.common.errors import AppError
from parley.realtime import protocol
from parley.realtime.backpressure import CommandBudget
from parley.realtime.ephemeral import Ephemeral, TypingGate
from parley.realtime.layer import DELIVERIES_PER_TURN, Inbox


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def budget(clock: Clock, monkeypatch: pytest.MonkeyPatch, *, rate: float = 2, burst: int = 3) -> CommandBudget:
    monkeypatch.setattr(CommandBudget, "clock", staticmethod(clock))
    return CommandBudget(rate=rate, burst=burst)


def test_the_budget_passes_a_burst_then_refills_at_its_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    bucket = budget(clock, monkeypatch)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token at 2 a second
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.now += 10  # never more than the burst
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_flooding_is_more_refusals_in_a_row_than_the_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    bucket = budget(clock, monkeypatch)
    for _ in range(3):
        bucket.take()
    refusals = []
    for _ in range(4):
        bucket.take()
        refusals.append(bucket.flooding)
    assert refusals == [False, False, False, True]
    clock.now += 1
    assert bucket.take() and not bucket.flooding  # a frame that passes resets the count


async def test_the_inbox_hands_over_one_message_at_a_time_client_first() -> None:
    client: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    layer: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    inbox = Inbox(client.get, layer.get)
    layer.put_nowait({"type": "parley.event", "n": 1})
    assert (await inbox())["n"] == 1
    client.put_nowait({"type": "websocket.receive", "n": 2})
    layer.put_nowait({"type": "parley.event", "n": 3})
    await asyncio.sleep(0)
    assert [(await inbox())["n"], (await inbox())["n"]] == [2, 3]
    waiting = asyncio.ensure_future(inbox())
    await asyncio.sleep(0)
    inbox.close()  # the consumer stops: pending receives are cancelled
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert client.qsize() == layer.qsize() == 0


async def test_the_inbox_delivers_layer_messages_itself_and_returns_the_clients() -> None:
    client: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    layer: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    delivered: list[int] = []
    busy = False

    async def deliver(message: dict[str, Any]) -> None:
        nonlocal busy
        assert not busy  # one message at a time
        busy = True
        await asyncio.sleep(0)
        delivered.append(message["n"])
        busy = False
        if message.get("fail"):
            raise RuntimeError("handler failed")

    inbox = Inbox(client.get, layer.get, deliver=deliver)
    for n in (1, 2, 3):
        layer.put_nowait({"type": "parley.event", "n": n})
    receiving = asyncio.ensure_future(inbox())
    await asyncio.sleep(0.01)
    assert delivered == [1, 2, 3] and not receiving.done()  # layer messages never come back
    client.put_nowait({"type": "websocket.receive", "n": 4})
    layer.put_nowait({"type": "parley.event", "n": 5})
    assert (await receiving)["n"] == 4  # the client's message is returned, not delivered
    assert delivered == [1, 2, 3]  # and it went first: 5 waits for the next call
    layer.put_nowait({"type": "parley.event", "n": 6, "fail": True})
    with pytest.raises(RuntimeError, match="handler failed"):  # Channels' loop sees it
        await inbox()
    assert delivered == [1, 2, 3, 5, 6]
    inbox.close()


async def test_a_long_layer_backlog_lets_the_client_in() -> None:
    client: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    layer: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    delivered: list[int] = []

    async def deliver(message: dict[str, Any]) -> None:  # never yields, as a send the transport takes
        delivered.append(message["n"])

    inbox = Inbox(client.get, layer.get, deliver=deliver)
    for n in range(10 * DELIVERIES_PER_TURN):
        layer.put_nowait({"type": "parley.event", "n": n})
    client.put_nowait({"type": "websocket.receive", "n": -1})
    assert (await inbox())["n"] == -1
    assert 0 < len(delivered) <= 2 * DELIVERIES_PER_TURN  # not after the whole backlog
    inbox.close()


def test_typing_starts_are_coalesced_and_a_stop_follows_only_a_start(settings: Any) -> None:
    settings.PARLEY = {**getattr(settings, "PARLEY", {}), "TYPING_INTERVAL_SECONDS": 60}
    gate = TypingGate()
    assert [gate.allow(1, False), gate.allow(1, True), gate.allow(1, True)] == [False, True, False]
    assert [gate.allow(2, True), gate.allow(1, False), gate.allow(1, False)] == [True, True, False]


def test_presence_and_typing_are_forwarded_once_and_never_about_oneself() -> None:
    seen = Ephemeral(me=7)

    def presence(user: int, online: bool) -> tuple[dict[str, Any], str]:
        return {"type": "presence", "user": user, "conversation": None}, json.dumps({"online": online})

    assert [seen.forward(*presence(8, True), followed={1}) for _ in range(2)] == [True, False]
    assert seen.forward(*presence(8, False), followed={1}) is True
    assert seen.forward(*presence(7, True), followed={1}) is False
    typing = {"type": "typing", "user": 8, "conversation": 1}
    assert seen.forward(typing, "{}", followed={1}) is True
    assert seen.forward({**typing, "conversation": 2}, "{}", followed={1}) is False
    assert seen.forward({**typing, "user": 7}, "{}", followed={1}) is False


@pytest.mark.parametrize(
    ("named", "query", "refusal"),
    [
        ("12", b"since=3", None),
        ("abc", b"", "not_found"),
        ("0", b"", "not_found"),
        ("9223372036854775808", b"", "not_found"),
        ("12", b"since=x", "invalid_since"),
        (None, b"since=%7B%221%22%3A-1%7D", "invalid_since"),
        (None, b"protocol=legacy", "invalid_protocol"),
        ("12", b"protocol=LEGACY", "invalid_protocol"),
    ],
)
def test_the_handshake_reads_the_path_and_query(named: str | None, query: bytes, refusal: str | None) -> None:
    kwargs = {} if named is None else {"conversation_id": named}
    scope = {"url_route": {"kwargs": kwargs}, "query_string": query}
    if refusal is None:
        assert protocol.handshake(scope) == protocol.Handshake(conversation_id=12, since={12: 3})
        return
    with pytest.raises(protocol.HandshakeRefused) as refused:
        protocol.handshake(scope)
    assert refused.value.code == refusal


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (None, "binary_not_supported"),
        ("x" * 101, "frame_too_large"),
        ("\u20ac" * 40, "frame_too_large"),  # 120 bytes of UTF-8
        ("not json", "invalid_json"),
        ("[" * 5_000, "invalid_json"),  # deeper than the decoder recurses
        ("[1]", "invalid_frame"),
    ],
)
def test_decode_refuses_what_is_not_a_command(text: str | None, code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = 100 if code == "frame_too_large" else 10_000
    with pytest.raises(AppError) as refused:
        protocol.decode(text, max_bytes=limit, budget=budget(Clock(), monkeypatch))
    assert refused.value.code == code


def test_decode_names_the_command_and_keeps_only_a_usable_ref(monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = budget(Clock(), monkeypatch, burst=10)
    assert protocol.decode('{"content": "hi", "ref": 3}', max_bytes=100, budget=bucket).kind == "message.send"
    assert protocol.decode('{"type": "read", "ref": [1]}', max_bytes=100, budget=bucket).ref is None
    assert protocol.decode('{"type": 5}', max_bytes=100, budget=bucket).kind is None


async def test_eager_runs_what_need_not_wait_at_once_and_makes_a_task_of_the_rest() -> None:
    from parley.realtime.eager import eager

    async def at_once() -> int:
        return 1

    async def fails() -> int:
        raise ValueError("no")

    queue: asyncio.Queue[int] = asyncio.Queue()
    done = eager(at_once())
    assert done.done() and not isinstance(done, asyncio.Task) and done.result() == 1
    failed = eager(fails())
    with pytest.raises(ValueError):
        failed.result()
    waits = eager(queue.get())
    assert isinstance(waits, asyncio.Task) and not waits.done()
    queue.put_nowait(7)
    assert await waits == 7
    cancelled = eager(queue.get())
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    queue.put_nowait(8)  # the cancelled get left the queue's waiters clean
    assert await eager(queue.get()) == 8


async def test_on_the_pubsub_layer_a_socket_takes_messages_from_its_queue_and_never_subscribes_its_channel() -> None:
    """Parley only ever sends to groups: the socket's own channel is a queue in the
    layer, with no SUBSCRIBE to open it nor UNSUBSCRIBE to close it (a Redis round
    trip each, at every connect and close)."""
    from channels.layers import get_channel_layer

    from parley.realtime.layer import LayerLink

    layer = get_channel_layer()
    if type(layer).__module__ != "channels_redis.pubsub":
        pytest.skip("the direct path is channels_redis' pub/sub layer's (production settings, REDIS_URL)")
    link = LayerLink(on_lost=lambda: None)
    assert await link.attach() and link.direct
    await link.subscribe("parts-direct")
    inbox = link.inbox(asyncio.Event().wait)  # type: ignore[arg-type]  # a client that never speaks
    await asyncio.sleep(0.3)  # the SUBSCRIBE went out on the pub/sub connection, not awaited
    local = layer._get_layer()
    subscribed = set().union(*(shard._subscribed_to for shard in local._shards))
    assert local._get_group_channel_name("parts-direct") in subscribed
    assert link.channel_name not in subscribed
    for n in (1, 2):
        await layer.group_send("parts-direct", {"type": "parley.event", "n": n})
    assert [(await asyncio.wait_for(inbox(), 5))["n"] for _ in range(2)] == [1, 2]
    assert link.backlog() == 0
    await link.leave()
    link.close()
    assert link.channel_name not in local.channels

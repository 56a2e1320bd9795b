"""Random interleavings of writes, reads and reconnects: every client converges on REST.

Per seed, three users in a direct chat and a group send, edit, delete and read over
REST and over their sockets, while sockets drop (losing the frames still in flight)
and come back with `since`. Each client's view is rebuilt only from the frames it
received (`ClientView.apply`, a small reducer); at the end it must equal a fresh
REST fetch of each history and of the read pointers, and every client must have seen
each conversation's `seq` grow by exactly 1, with no duplicate and no gap.

In-process (WebsocketCommunicator on the real ASGI app), so it runs on the in-memory
layer or on Redis, whichever the suite uses.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from server.accounts.models import User
from tests.ws import Socket, atoken_for

pytestmark = pytest.mark.django_db(transaction=True)

SEEDS = range(6)
STEPS = 45
CONVERSATIONS = "/api/chat/conversations/"
MESSAGES = "/api/chat/messages/"

Frame = dict[str, Any]


class Rest:
    """HTTP through the ASGI app with a user's real token (async, for async tests)."""

    def __init__(self, token: str) -> None:
        from tests.conftest import in_process_application

        application = in_process_application()

        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application, client=("127.0.0.1", 40000)),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, **kwargs)
        assert response.status_code in (200, 201), (method, path, response.status_code, response.text)
        return response.json()


class ClientView:
    """One socket's client: its cursors and the state its frames add up to."""

    def __init__(self, name: str, who: str, token: str, conversation_id: int | None = None) -> None:
        self.name, self.who, self.token, self.conversation_id = name, who, token, conversation_id
        self.sock: Socket | None = None
        self.cursors: dict[int, int] = {}
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}
        self.pointers: dict[int, dict[int, int]] = {}
        self.seqs: dict[int, list[int]] = {}
        self.problems: list[str] = []
        self.refs = 0

    # --- The reducer ---------------------------------------------------------------

    def apply(self, frame: Frame) -> None:
        kind = frame["type"]
        if kind == "ready":
            for key, seq in frame["conversations"].items():
                cid = int(key)
                if cid in self.cursors and self.cursors[cid] != seq:
                    self.problems.append(f"{self.name}: ready says {cid}@{seq}, frames say {self.cursors[cid]}")
                self.cursors[cid] = seq
            return
        if kind == "error":
            self.problems.append(f"{self.name}: error frame {frame}")
            return
        if kind == "__closed__":
            self.problems.append(f"{self.name}: closed unexpectedly with {frame['code']}")
            return
        if "seq" not in frame:
            return  # ack, pong, presence, typing, conversation.*: not part of the history
        cid, seq = frame["conversation"], frame["seq"]
        last = self.cursors.get(cid)
        if last is None:
            self.problems.append(f"{self.name}: {kind} {cid}@{seq} of a conversation it was not given")
        elif seq != last + 1:
            self.problems.append(f"{self.name}: {kind} {cid}@{seq} after {last}")
        self.cursors[cid] = max(seq, last or 0)
        self.seqs.setdefault(cid, []).append(seq)
        messages = self.messages.setdefault(cid, {})
        if kind in ("message.created", "message.updated"):
            messages[frame["message"]["id"]] = dict(frame["message"])
        elif kind == "message.deleted":
            messages.setdefault(frame["message_id"], {"id": frame["message_id"]}).update(is_deleted=True, content="")
        elif kind == "message.read":
            pointers = self.pointers.setdefault(cid, {})
            pointers[frame["user"]] = max(pointers.get(frame["user"], 0), frame["message_id"])

    def history(self, cid: int) -> list[tuple[int, str, str | None]]:
        live = (m for m in self.messages.get(cid, {}).values() if not m.get("is_deleted"))
        return sorted((m["id"], m["content"], m["edited_at"]) for m in live)

    # --- The socket ------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.sock is not None

    async def connect(self) -> None:
        since: Any = None
        if self.cursors:
            since = self.cursors[self.conversation_id] if self.conversation_id is not None else dict(self.cursors)
        self.sock = Socket.for_user(self.token, self.conversation_id, since=since)
        assert await self.sock.connect()
        await self.pump_until(lambda f: f["type"] == "ready")

    async def disconnect(self) -> None:
        """Close; frames not read yet are lost, as in flight on a dropped connection."""
        assert self.sock is not None
        await self.sock.close()
        self.sock = None

    async def pump(self, quiet: float = 0.01) -> None:
        """Apply every frame already there (until `quiet` seconds pass without one)."""
        assert self.sock is not None
        while not await self.sock.nothing(quiet):
            self.apply(await self.sock.receive())

    async def pump_until(self, match: Callable[[Frame], bool], timeout: float = 3) -> Frame:
        assert self.sock is not None
        while True:
            frame = await self.sock.receive(timeout)
            self.apply(frame)
            if frame["type"] == "__closed__":
                raise AssertionError(f"{self.name} closed with {frame['code']}: {self.problems}")
            if match(frame):
                return frame

    async def command(self, frame: Frame) -> Frame:
        """Send a command and apply frames up to its ack; returns the ack."""
        assert self.sock is not None
        self.refs += 1
        ref = f"{self.name}-{self.refs}"
        await self.sock.send({**frame, "ref": ref})
        reply = await self.pump_until(lambda f: f.get("ref") == ref and f["type"] in ("ack", "error"))
        assert reply["type"] == "ack", reply
        return reply

    def frame_for(self, cid: int, frame: Frame) -> Frame:
        return frame if self.conversation_id is not None else {**frame, "conversation": cid}


async def run_seed(seed: int, users: dict[str, User]) -> None:
    rng = random.Random(seed)
    bob, carol = users["bob"], users["carol"]
    tokens = {name: await atoken_for(user) for name, user in users.items()}
    rest = {name: Rest(token) for name, token in tokens.items()}
    direct = (await rest["alice"].call("POST", f"{CONVERSATIONS}start/", json={"user2": bob.pk}))["id"]
    team = (
        await rest["alice"].call("POST", CONVERSATIONS, json={"participants": [bob.pk, carol.pk], "title": "Team"})
    )["id"]
    members = {direct: ["alice", "bob"], team: ["alice", "bob", "carol"]}
    start_pointers = {
        cid: {
            m["id"]: m["last_read_message_id"]
            for m in (await rest["alice"].call("GET", f"{CONVERSATIONS}{cid}/"))["members"]
        }
        for cid in members
    }

    clients = [
        ClientView("alice", "alice", tokens["alice"]),
        ClientView("bob", "bob", tokens["bob"]),
        ClientView("carol", "carol", tokens["carol"]),
        ClientView("bob-direct", "bob", tokens["bob"], conversation_id=direct),
    ]
    for client in clients:
        await client.connect()

    live: dict[int, dict[int, str]] = {cid: {} for cid in members}  # message id -> sender name

    def socket_of(name: str, cid: int) -> ClientView | None:
        options = [c for c in clients if c.who == name and c.connected and c.conversation_id in (None, cid)]
        return rng.choice(options) if options and rng.random() < 0.5 else None

    for step in range(STEPS):
        op = rng.choices(["send", "edit", "delete", "read", "drop", "return", "pump"], [6, 2, 2, 3, 1, 1, 2])[0]
        cid = rng.choice(list(members))
        actor = rng.choice(members[cid])
        own = [mid for mid, sender in live[cid].items() if sender == actor]
        if op == "send":
            content = f"s{seed}-{step} by {actor}"
            via = socket_of(actor, cid)
            if via is not None:
                message = (await via.command(via.frame_for(cid, {"type": "message.send", "content": content})))[
                    "message"
                ]
            else:
                message = await rest[actor].call(
                    "POST", f"{CONVERSATIONS}{cid}/send_message/", json={"content": content}
                )
            live[cid][message["id"]] = actor
        elif op == "edit" and own:
            mid, content = rng.choice(own), f"edit{seed}-{step}"
            via = socket_of(actor, cid)
            if via is not None:
                await via.command(via.frame_for(cid, {"type": "message.edit", "message_id": mid, "content": content}))
            else:
                await rest[actor].call("POST", f"{MESSAGES}{mid}/edit_message/", json={"content": content})
        elif op == "delete" and own:
            mid = rng.choice(own)
            via = socket_of(actor, cid)
            if via is not None:
                await via.command(via.frame_for(cid, {"type": "message.delete", "message_id": mid}))
            else:
                await rest[actor].call("POST", f"{MESSAGES}{mid}/delete_message/")
            del live[cid][mid]
        elif op == "read" and live[cid]:
            mid = rng.choice(list(live[cid]))
            via = socket_of(actor, cid)
            if via is not None:
                await via.command(via.frame_for(cid, {"type": "message.read", "message_id": mid}))
            else:
                await rest[actor].call("POST", f"{MESSAGES}{mid}/mark_read/")
        elif op == "drop":
            connected = [c for c in clients if c.connected]
            if connected:
                victim = rng.choice(connected)
                if rng.random() < 0.5:
                    await victim.pump()  # sometimes the client had read everything
                await victim.disconnect()
        elif op == "return":
            away = [c for c in clients if not c.connected]
            if away:
                await rng.choice(away).connect()
        elif op == "pump":
            connected = [c for c in clients if c.connected]
            if connected:
                await rng.choice(connected).pump()

    # Everyone comes back and catches up to the database's last seq.
    for client in clients:
        if not client.connected:
            await client.connect()
    final = {cid: await rest["alice"].call("GET", f"{CONVERSATIONS}{cid}/") for cid in members}
    for client in clients:
        for cid in members:
            if client.who in members[cid] and client.conversation_id in (None, cid):
                target = final[cid]["last_seq"]
                if client.cursors.get(cid, 0) < target:
                    try:
                        await client.pump_until(
                            lambda f, c=cid, t=target: f.get("conversation") == c and f.get("seq") == t
                        )
                    except TimeoutError:
                        raise AssertionError(
                            f"seed {seed}: {client.name} stuck at {cid}@{client.cursors.get(cid)}, the database "
                            f"is at {target}; problems: {client.problems}"
                        ) from None

    for cid, names in members.items():
        page = await rest["alice"].call("GET", f"{CONVERSATIONS}{cid}/messages/?page_size=500")
        assert page["next"] is None
        expected = [(m["id"], m["content"], m["edited_at"]) for m in page["results"]]
        pointers = {m["id"]: m["last_read_message_id"] for m in final[cid]["members"]}
        for client in clients:
            if client.who not in names or client.conversation_id not in (None, cid):
                continue
            assert client.history(cid) == expected, f"seed {seed}: {client.name}'s view of {cid} differs from REST"
            seen = {**start_pointers[cid], **client.pointers.get(cid, {})}
            assert seen == pointers, f"seed {seed}: {client.name}'s read pointers in {cid}"
            seqs = client.seqs.get(cid, [])
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True, seqs
            assert client.cursors[cid] == final[cid]["last_seq"]
    for client in clients:
        assert client.problems == [], f"seed {seed}: {client.problems}"
        if client.connected:
            await client.disconnect()
    for api in rest.values():
        await api.client.aclose()


@pytest.fixture
def users(make_user: Callable[..., User]) -> dict[str, User]:
    return {name: make_user(name) for name in ("alice", "bob", "carol")}


@pytest.fixture
def fast_resync(settings: Any) -> None:
    """Sockets compare their cursors with the database every 0.3 s instead of 60 s."""
    settings.PARLEY = {**settings.PARLEY, "WS_HEARTBEAT_SECONDS": 0.1}
    settings.PARLEY = {**settings.PARLEY, "WS_RESYNC_SECONDS": 0.3}


def lose_doorbells(monkeypatch: pytest.MonkeyPatch, seed: int, rate: float) -> None:
    """The channel layer is at-most-once: drop a seeded share of the durable doorbells
    (as a full channels-redis queue or a Redis blip would), so that gap filling and the
    periodic resync have work to do."""
    from parley.events import publishing

    publish = publishing.publish_to_conversation
    rng = random.Random(f"loss-{seed}")

    def lossy(conversation_id: int, frame: Frame) -> None:
        if "seq" in frame and rng.random() < rate:
            return
        publish(conversation_id, frame)

    monkeypatch.setattr(publishing, "publish_to_conversation", lossy)


@pytest.mark.parametrize("lossy", [False, True], ids=["layer-ok", "layer-drops"])
@pytest.mark.parametrize("seed", SEEDS)
async def test_every_client_converges_on_the_rest_history(
    seed: int, lossy: bool, users: dict[str, User], fast_resync: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if lossy:
        lose_doorbells(monkeypatch, seed, rate=0.25)
    await run_seed(seed, users)

"""One way to publish (STYLE: only actions publish, and only after commit).

Read from the source, not from a run: every module of the reusable app, the standalone
server and the example host is parsed, and outside parley.events nothing may

- reach the channel layer's send side (`group_send`, or `.send` on a layer),
- ring the doorbell or call the events package's internal senders,
- hand `transaction.on_commit` something that publishes.

`publish_on_commit` is for the services (the writes); `publish_ephemeral` for the socket
layer (typing and presence). The checker is tested on code that breaks each rule, so a
rule it stopped seeing fails here too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("parley", "server", "examples")
EVENTS = "parley/events/"
INTERNAL = {"publish_to_conversation", "publish_to_users", "ring", "_publish_safely"}
PUBLISHING = ("publish", "events.", "doorbell", "group_send")
ALLOWED_CALLERS = {
    "publish_on_commit": ("parley/services/",),
    "publish_ephemeral": ("parley/realtime/",),
}


def violations(source: str, path: str) -> list[str]:
    """What in `source` (the module at `path`, relative to the repository) breaks the rules."""
    if path.startswith(EVENTS):
        return []
    tree = ast.parse(source)
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    found = []
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute):
            receiver = ast.unparse(node.value).lower()
            if node.attr == "group_send" or (node.attr == "send" and "layer" in receiver):
                found.append(f"{where} uses the channel layer's {node.attr}")
            if node.attr in INTERNAL and ("events" in receiver or "doorbell" in receiver or "publishing" in receiver):
                found.append(f"{where} calls {ast.unparse(node)}, internal to parley.events")
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("parley.events"):
            found += [f"{where} imports {alias.name}" for alias in node.names if alias.name in INTERNAL | {"doorbell"}]
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        allowed = ALLOWED_CALLERS.get(name)
        if allowed is not None and not path.startswith(allowed):
            found.append(f"{where} calls {name} (for {', '.join(allowed)} only)")
        if name == "on_commit":
            given = " ".join(ast.unparse(arg) for arg in [*node.args, *(k.value for k in node.keywords)])
            for arg in node.args:
                if isinstance(arg, ast.Name) and arg.id in functions:  # a local function: read its body
                    given += ast.unparse(functions[arg.id])
            if any(word in given for word in PUBLISHING):
                found.append(f"{where} publishes from transaction.on_commit; use events.publish_on_commit")
    return found


def test_nothing_outside_parley_events_publishes_on_its_own() -> None:
    found = []
    for top in SCANNED:
        for file in sorted((ROOT / top).rglob("*.py")):
            path = file.relative_to(ROOT).as_posix()
            if "/migrations/" not in path:
                found += violations(file.read_text(), path)
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "async def f(layer):\n    await layer.group_send('g', {})\n",
        "from channels.layers import get_channel_layer\nasync_to_sync(get_channel_layer().group_send)('g', {})\n",
        "async def f(self):\n    await self.channel_layer.send('c', {})\n",
        "from parley import events\nevents.doorbell.ring('g', {})\n",
        "from parley.events import publishing\npublishing.publish_to_users([1], {})\n",
        "from parley.events.doorbell import doorbell\n",
        "from django.db import transaction\ntransaction.on_commit(lambda: events.publish_on_commit(frame))\n",
        "from django.db import transaction\n\ndef later():\n    notify(frame)\n\n"
        "def notify(frame):\n    publish(frame)\n\ntransaction.on_commit(notify)\n",
        "from parley import events\nevents.publish_on_commit(frame, conversation=1)\n",
        "from parley import events\nevents.publish_ephemeral(frame, conversation=1)\n",
    ],
    ids=[
        "group_send",
        "group_send-wrapped",
        "layer-send",
        "doorbell",
        "internal-sender",
        "import-doorbell",
        "on_commit-lambda",
        "on_commit-function",
        "publish_on_commit-outside-services",
        "publish_ephemeral-outside-realtime",
    ],
)
def test_the_checker_sees_each_kind_of_publish_outside_the_events_package(source: str) -> None:
    assert violations(source, "server/accounts/somewhere.py")


def test_the_checker_lets_the_events_package_services_and_sockets_do_their_part() -> None:
    assert violations("async def f(layer):\n    await layer.group_send('g', {})\n", "parley/events/doorbell.py") == []
    assert violations("events.publish_on_commit(frame, conversation=1)\n", "parley/services/messages.py") == []
    assert violations("events.publish_ephemeral(frame, conversation=1)\n", "parley/realtime/consumer.py") == []
    assert violations("transaction.on_commit(functools.partial(attachment_discard, name))\n", "parley/x.py") == []

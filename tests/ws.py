"""WebSocket test helpers: real ASGI app, real JWTs, the in-memory or Redis layer."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests import hosts


def token_for(user: Any) -> str:
    return hosts.access_token(user)


async def atoken_for(user: Any) -> str:
    return await database_sync_to_async(token_for)(user)


class Socket:
    """A WebsocketCommunicator speaking Parley frames."""

    def __init__(self, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        from tests.conftest import in_process_application

        self.communicator = WebsocketCommunicator(in_process_application(), path, headers=headers or [])
        self.close_code: int | None = None

    @classmethod
    def for_user(
        cls, token: str | None, conversation_id: int | None = None, *, since: Any = None, **kwargs: Any
    ) -> Socket:
        path = f"/ws/chat/{conversation_id}/" if conversation_id is not None else "/ws/chat/"
        params = []
        if token is not None:
            params.append(f"token={token}")
        if since is not None:
            params.append(f"since={quote(json.dumps(since) if isinstance(since, dict) else str(since))}")
        if params:
            path += "?" + "&".join(params)
        return cls(path, **kwargs)

    async def connect(self) -> bool:
        connected, _ = await self.communicator.connect()
        return connected

    async def open(self) -> dict[str, Any]:
        """Connect and wait for `ready` (catch-up done); returns the ready frame."""
        assert await self.connect()
        return await self.receive_until("ready")

    async def send(self, frame: dict[str, Any]) -> None:
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def send_raw(self, text: str) -> None:
        """Any text frame, the empty one included."""
        await self.communicator.send_input({"type": "websocket.receive", "text": text})

    async def receive(self, timeout: float = 2) -> dict[str, Any]:
        output = await self.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.close_code = output.get("code")
            return {"type": "__closed__", "code": self.close_code}
        return json.loads(output["text"])

    async def receive_until(self, kind: str, timeout: float = 2) -> dict[str, Any]:
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == kind:
                return frame
            if frame["type"] == "__closed__":
                raise AssertionError(f"socket closed with {frame['code']} while waiting for {kind}")

    async def closed_with(self, timeout: float = 2) -> int | None:
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == "__closed__":
                return frame["code"]

    async def drain(self, quiet: float = 0.2) -> list[dict[str, Any]]:
        """Every frame that arrives until the socket has been quiet for `quiet` seconds."""
        frames = []
        while not await self.communicator.receive_nothing(quiet):
            frames.append(await self.receive())
        return frames

    async def nothing(self, timeout: float = 0.2) -> bool:
        return await self.communicator.receive_nothing(timeout)

    async def close(self) -> None:
        await self.communicator.disconnect()

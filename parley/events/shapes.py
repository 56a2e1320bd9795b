"""Every frame a client may receive, as one registry: what tests/test_frames.py checks on
the wire and tests/test_frame_docs.py against docs/websocket.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union, get_args, get_type_hints

from parley.events.frames import DurableFrame, EphemeralFrame, UserFrame
from parley.events.replies import AckAuth, AckTyping, AckWrite, Error, ErrorResyncRequired, Pong, Ready

ReplyFrame = Union[Ready, AckWrite, AckTyping, AckAuth, Error, ErrorResyncRequired, Pong]  # noqa: UP007
ServerFrame = Union[DurableFrame, UserFrame, EphemeralFrame, ReplyFrame]  # noqa: UP007

# In the order docs/websocket.md lists them.
SHAPES: tuple[type, ...] = tuple(
    shape for group in (DurableFrame, UserFrame, EphemeralFrame, ReplyFrame) for shape in get_args(group)
)


def frame_type(shape: type) -> str:
    """The `type` a shape declares (its Literal)."""
    (name,) = get_args(get_type_hints(shape)["type"])
    return str(name)


def shape_of(frame: Mapping[str, Any]) -> type | None:
    """The declared shape of a frame: its `type` and exactly its keys; None if it has none."""
    for shape in SHAPES:
        if frame_type(shape) == frame.get("type") and set(frame) == set(shape.__required_keys__):  # type: ignore[attr-defined]
            return shape
    return None

"""docs/websocket.md against the declared frames: every shape documented, with exactly
its fields, and nothing documented that is not declared.

    "Server -> client frames"   one row per shape of parley.events.SHAPES
    "Legacy protocol"           one row per shape of parley.legacy.SHAPES

A shape is a TypedDict with every key required, so the declaration is the whole truth
about a frame's keys (tests/test_frames.py holds the wire to it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parley import events, legacy

DOC = Path(__file__).resolve().parent.parent / "docs" / "websocket.md"


def section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(f"## {title}\n")
    following = text.find("\n## ", start + 1)
    return text[start : following if following != -1 else None]


def table_rows(text: str) -> list[list[str]]:
    """The cells of the first table in `text`, header and rule left out."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:] if not row.startswith("| ---")]


def declared(shapes: tuple[type, ...]) -> set[tuple[str, frozenset[str]]]:
    return {(events.frame_type(shape), frozenset(shape.__required_keys__) - {"type"}) for shape in shapes}  # type: ignore[attr-defined]


@pytest.mark.parametrize("shapes", [events.SHAPES, legacy.SHAPES], ids=["ours", "legacy"])
def test_every_shape_requires_exactly_its_keys(shapes: tuple[type, ...]) -> None:
    for shape in shapes:
        assert shape.__total__ and not shape.__optional_keys__, shape  # type: ignore[attr-defined]
        assert "type" in shape.__required_keys__, shape  # type: ignore[attr-defined]


def test_the_server_frames_table_is_the_declared_shapes() -> None:
    rows = table_rows(section("Server -> client frames"))
    documented = [(row[0].strip("`"), frozenset(re.findall(r"`(\w+)`", row[1]))) for row in rows]
    assert len(documented) == len(set(documented)), "a shape is documented twice"
    assert set(documented) == declared(events.SHAPES)


def test_the_legacy_table_is_the_declared_legacy_shapes() -> None:
    documented = set()
    for row in table_rows(section("Legacy protocol")):
        found = re.search(r'`\{"type": "(\w+)"((?:, "\w+")*)\}`', row[1])
        if found:  # rows saying "unchanged" or "dropped" name no legacy shape
            documented.add((found.group(1), frozenset(re.findall(r'"(\w+)"', found.group(2)))))
    assert documented == declared(legacy.SHAPES)


def test_the_checks_see_a_missing_field_and_an_undeclared_frame() -> None:
    shapes = declared(events.SHAPES)
    assert ("pong", frozenset()) not in shapes and ("pong", frozenset({"ref"})) in shapes
    assert ("message.created", frozenset({"conversation", "seq"})) not in shapes

"""Sizes and durations of the quick (`make bench`, a few minutes) and full runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    seconds: float  # length of each throughput run
    deep: int  # messages in the S2 conversation
    depths: tuple[int, ...]  # S2: pages probed at these many messages from the newest
    list_conversations: int  # S3: conversations of the list user
    list_messages: int  # S3: messages in each of them
    pairs: int  # direct conversations (S1 spreads sends over them; S4 pairs)
    s4_idle: int  # S4: messages sent one at a time
    s4_rate: int  # S4: messages/s of the loaded run
    s5_messages: int  # S5: messages per fan-out run
    s6_sockets: int  # S6: idle sockets
    s7_clients: int  # S7: reconnecting clients
    s7_missed: int  # S7: messages sent while they are away
    s8_seconds: float
    s8_rate: int
    s8_content: int  # characters per S8 message
    modes: tuple[str, ...] = ("production", "embedded")  # run by default


QUICK = Profile(
    name="quick",
    seconds=1.0,
    deep=20_000,
    depths=(0, 1_000, 19_950),
    list_conversations=1_000,
    list_messages=3,
    pairs=100,
    s4_idle=100,
    s4_rate=500,
    s5_messages=20,
    s6_sockets=500,
    s7_clients=1_000,
    s7_missed=10,
    s8_seconds=3.0,
    s8_rate=50,
    s8_content=8_000,
    modes=("production",),
)

FULL = Profile(
    name="full",
    seconds=10.0,
    deep=1_000_000,
    depths=(0, 1_000, 10_000, 100_000, 500_000, 999_950),
    list_conversations=1_000,
    list_messages=10,
    pairs=500,
    s4_idle=1_000,
    s4_rate=500,
    s5_messages=100,
    s6_sockets=10_000,
    s7_clients=1_000,
    s7_missed=50,
    s8_seconds=45.0,
    s8_rate=50,
    s8_content=8_000,
)

PROFILES = {"quick": QUICK, "full": FULL}

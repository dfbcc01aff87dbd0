"""The simulated meter's register layout, written from hashpivot's reference meter spec.

This is the simulator's own reading of the layout (it never imports the driver):
all quantities in input registers (function 4), big-endian words, high word first::

    address  words  quantity                        encoding
    0        2      total active power              float32, W
    2        4      imported active energy          uint64, Wh (rounded down)
    6 + 2k   2      active power of feed k (k>=0)   float32, W

Holding registers are not implemented: reading them answers exception 2 (illegal
data address), as a real meter does for an address it does not have.
"""

from __future__ import annotations

import math
import struct

__all__ = [
    "ENERGY_ADDRESS",
    "FEED_BASE_ADDRESS",
    "MAX_FEEDS",
    "TOTAL_POWER_ADDRESS",
    "encode_float32",
    "encode_uint64",
    "encode_values",
    "register_count",
]

TOTAL_POWER_ADDRESS = 0
ENERGY_ADDRESS = 2
FEED_BASE_ADDRESS = 6
MAX_FEEDS = 32


def register_count(feeds: int) -> int:
    """How many input registers a meter with ``feeds`` feeds implements (from address 0)."""
    return FEED_BASE_ADDRESS + 2 * feeds


def _words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def encode_float32(value: float) -> list[int]:
    try:
        return _words(struct.pack(">f", value))
    except OverflowError:  # beyond float32: the meter shows infinity, the driver rejects it
        return _words(struct.pack(">f", math.copysign(math.inf, value)))


def encode_uint64(value: float) -> list[int]:
    """A counter in whole units, clamped to the type (a real counter would wrap)."""
    whole = 0 if not math.isfinite(value) else min(max(int(value), 0), 2**64 - 1)
    return _words(whole.to_bytes(8, "big"))


def encode_values(total_w: float, feeds_w: tuple[float, ...], energy_wh: float) -> list[int]:
    """Every register word, from address 0, for these values."""
    words = encode_float32(total_w) + encode_uint64(energy_wh)
    for feed in feeds_w:
        words += encode_float32(feed)
    return words

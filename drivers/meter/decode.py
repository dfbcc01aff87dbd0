"""From register words to a :class:`MeterReading`: the read plan, decoding, plausibility.

Pure functions, no I/O, so they can be fuzzed: any words, of any length, give a
finite float or a :class:`MeterError`, never a sentinel and never another exception.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from drivers.meter.errors import ImplausibleValue, MeterError
from drivers.meter.registers import Register, RegisterKind, RegisterMap, WordOrder
from drivers.meter.types import MeterReading

__all__ = ["MAX_READ_WORDS", "Span", "decode_reading", "decode_register", "plan_reads"]

MAX_READ_WORDS = 125  # the most registers one Modbus read (function 3 or 4) may ask for

Words = Mapping[tuple[RegisterKind, int], int]  # (kind, address) -> register word


@dataclass(frozen=True, slots=True)
class Span:
    """One Modbus read request: ``count`` registers of ``kind`` from ``address``."""

    kind: RegisterKind
    address: int
    count: int


def plan_reads(register_map: RegisterMap) -> tuple[Span, ...]:
    """The fewest reads that cover every register of the map.

    Only touching or overlapping registers are merged: reading across a gap could
    hit addresses the meter does not implement, which it answers with exception 2.
    """
    spans: list[Span] = []
    for kind in RegisterKind:
        ranges = sorted(
            (register.address, register.end)
            for _name, register in register_map.named()
            if register.kind is kind
        )
        start, end = -1, -1
        for low, high in ranges:
            if start >= 0 and low <= end and max(end, high) - start <= MAX_READ_WORDS:
                end = max(end, high)
                continue
            if start >= 0:
                spans.append(Span(kind, start, end - start))
            start, end = low, high
        if start >= 0:
            spans.append(Span(kind, start, end - start))
    return tuple(spans)


def decode_register(register: Register, words: Sequence[int], *, host: str, quantity: str) -> float:
    """The scaled value of one register from its raw words (in address order)."""
    if len(words) != register.words:
        raise MeterError(host, f"{quantity}: expected {register.words} words, got {len(words)}")
    for word in words:
        if isinstance(word, bool) or not isinstance(word, int) or not 0 <= word <= 0xFFFF:
            raise MeterError(host, f"{quantity}: {word!r} is not a 16-bit register word")
    ordered = words if register.word_order is WordOrder.BIG else list(reversed(words))
    raw = b"".join(word.to_bytes(2, "big") for word in ordered)
    (number,) = struct.unpack(register.data_type.struct_format, raw)
    value = float(number) * register.scale
    if not math.isfinite(value):
        raise ImplausibleValue(host, quantity, f"decodes to {value} (raw {number!r})")
    return value


def decode_reading(
    register_map: RegisterMap, words: Words, *, host: str, taken_at: float
) -> MeterReading:
    """Decode and check every quantity of the map from the words one read returned."""
    values: dict[str, float] = {}
    for name, register in register_map.named():
        try:
            raw = [
                words[(register.kind, address)] for address in range(register.address, register.end)
            ]
        except KeyError:
            raise MeterError(host, f"{name}: the read did not return its registers") from None
        values[name] = decode_register(register, raw, host=host, quantity=name)
    total = _power(register_map, "total_power", values["total_power"], host)
    feeds = tuple(
        _power(register_map, f"feed_power[{i}]", values[f"feed_power[{i}]"], host)
        for i in range(len(register_map.feed_power))
    )
    energy = values.get("energy")
    if energy is not None and not 0.0 <= energy <= register_map.max_energy_wh:
        raise ImplausibleValue(
            host, "energy", f"{energy:g} Wh is outside 0..{register_map.max_energy_wh:g}"
        )
    return MeterReading(taken_at=taken_at, total_w=total, feeds_w=feeds, energy_wh=energy)


def _power(register_map: RegisterMap, name: str, value: float, host: str) -> float:
    if value < -register_map.negative_tolerance_w:
        raise ImplausibleValue(
            host,
            name,
            f"{value:g} W is below the tolerance of -{register_map.negative_tolerance_w:g} W",
        )
    if abs(value) > register_map.max_power_w:
        raise ImplausibleValue(host, name, f"{value:g} W exceeds {register_map.max_power_w:g} W")
    return value

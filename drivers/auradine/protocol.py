"""Pure parsers for Auradine FluxOS replies: GCMiner RPC (4028) and REST (8080).

Both interfaces use the cgminer envelope; callers check it first. RPC rates are
MH/s; REST PSU values are strings with units (``"2687.00W"``). Out: H/s, W, °C,
RPM. Every parser raises :class:`ProtocolError` for a wrong shape and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.cgminer.values import (
    as_dict,
    as_list,
    first,
    opt_float,
    opt_int,
    opt_str,
    opt_unit_float,
    parse_devdetails,
    parse_pools,
    scaled_rate,
    section,
)
from drivers.identity import UnitIdentity
from drivers.types import HashBoard

__all__ = [
    "ModeSetting",
    "Temperatures",
    "parse_devdetails",
    "parse_devs",
    "parse_fan",
    "parse_ipreport",
    "parse_led",
    "parse_mode",
    "parse_pools",
    "parse_psu",
    "parse_summary",
    "parse_temperature",
]

_MHS = 1e6
_RATE_KEYS = ("MHS 5s", "MHS 1m", "MHS av")


@dataclass(frozen=True, slots=True)
class ModeSetting:
    """``Mode[0]``: the preset (normal/eco/turbo/custom), sleep, and the power target."""

    mode: str | None
    sleeping: bool | None
    power_w: float | None
    ths: float | None


@dataclass(frozen=True, slots=True)
class Temperatures:
    boards: tuple[float, ...]  # hottest sensor per hash board
    chips: tuple[float, ...]  # hottest chip per hash board
    control_board: float | None


def _rate(host: str, item: Any) -> float | None:
    for key in _RATE_KEYS:
        rate = scaled_rate(host, item, key, _MHS)
        if rate is not None:
            return rate
    return None


def parse_summary(host: str, reply: Any) -> tuple[float | None, float | None]:
    """(hashrate H/s, elapsed s) from RPC or REST ``summary``."""
    item = first(host, reply, "SUMMARY")
    return _rate(host, item), opt_float(host, item, "Elapsed")


def parse_devs(host: str, reply: Any) -> tuple[HashBoard, ...]:
    boards = []
    for n, raw in enumerate(section(host, reply, "DEVS")):
        item = as_dict(host, raw, f"DEVS[{n}]")
        ident = opt_int(host, item, "ID")
        boards.append(
            HashBoard(
                index=n if ident is None else max(ident - 1, 0),  # FluxOS numbers boards from 1
                hashrate_hs=_rate(host, item),
                board_temp_c=opt_float(host, item, "Temperature"),
            )
        )
    return tuple(boards)


def parse_mode(host: str, reply: Any) -> ModeSetting:
    item = first(host, reply, "Mode")
    sleep = opt_str(host, item, "Sleep")
    sleeping = None if sleep is None else sleep.strip().lower() in ("on", "true", "1")
    return ModeSetting(
        mode=(opt_str(host, item, "Mode") or "").lower() or None,
        sleeping=sleeping,
        power_w=opt_unit_float(host, item, "Power", "W"),
        ths=opt_float(host, item, "Ths"),
    )


def parse_psu(host: str, reply: Any) -> tuple[float | None, float | None]:
    """(input power W, maximum output W)."""
    item = first(host, reply, "PSU")
    return opt_unit_float(host, item, "PowerIn", "W"), opt_unit_float(host, item, "PoutMax", "W")


def parse_fan(host: str, reply: Any) -> tuple[int, ...]:
    fans = []
    for n, raw in enumerate(section(host, reply, "Fan")):
        rpm = opt_int(host, as_dict(host, raw, f"Fan[{n}]"), "Speed")
        if rpm is not None:
            fans.append(rpm)
    return tuple(fans)


def _readings(host: str, value: Any, what: str) -> list[float]:
    if value is None:
        return []
    out = []
    for n, raw in enumerate(as_list(host, value, what)):
        reading = opt_float(host, as_dict(host, raw, f"{what}[{n}]"), "Temperature")
        if reading:
            out.append(reading)
    return out


def parse_temperature(host: str, reply: Any) -> Temperatures:
    boards: list[float] = []
    chips: list[float] = []
    control: float | None = None
    for n, raw in enumerate(section(host, reply, "Temperature")):
        item = as_dict(host, raw, f"Temperature[{n}]")
        board = _readings(host, item.get("BoardTemp"), "BoardTemp")
        chip = _readings(host, item.get("ChipTemp"), "ChipTemp")
        name = (opt_str(host, item, "Name") or "").lower()
        if "control" in name:
            control = max(board) if board else None
            continue
        if board:
            boards.append(max(board))
        if chip:
            chips.append(max(chip))
    return Temperatures(tuple(boards), tuple(chips), control)


def parse_led(host: str, reply: Any) -> int | None:
    return opt_int(host, first(host, reply, "LED"), "Code")


def parse_ipreport(host: str, reply: Any) -> UnitIdentity:
    item = first(host, reply, "IPReport")
    return UnitIdentity(
        model=opt_str(host, item, "model"),
        firmware=opt_str(host, item, "version"),
        serial=opt_str(host, item, "SerialNo"),
        mac=opt_str(host, item, "mac"),
        hostname=opt_str(host, item, "hostname"),
    )

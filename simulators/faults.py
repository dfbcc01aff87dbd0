"""Fault injection shared by every simulated device and protocol.

Network faults (refuse, stall, slow, malformed, truncated) are applied by the
servers to every port a device serves; behavioural faults (ack_sleep_keep_hashing,
ignore_writes) are read by the make-specific services and state. Faults are set from
the site file, from tests (``device.faults.inject("stall")``) or from the control
plane at run time. A :class:`FaultMenu` says which faults one kind of device can show
(the site meter has its own, simulators/meter/faults.py); one parser and one
:class:`FaultSet` serve them all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from simulators.errors import UnknownFaultError

__all__ = [
    "DEFAULT_SLOW_S",
    "DEVICE_FAULTS",
    "Fault",
    "FaultKind",
    "FaultMenu",
    "FaultSet",
    "corrupt",
    "parse_fault",
    "truncate",
]

_log = logging.getLogger(__name__)

DEFAULT_SLOW_S = 5.0


class FaultKind(StrEnum):
    REFUSE = "refuse"  # connections are closed at once
    STALL = "stall"  # connections are accepted and never answered
    SLOW = "slow"  # replies are sent after `seconds` real seconds
    MALFORMED = "malformed"  # replies are not valid JSON
    TRUNCATED = "truncated"  # replies stop half way, then the connection closes
    ACK_SLEEP_KEEP_HASHING = "ack_sleep_keep_hashing"  # sleep acknowledged, power stays up
    IGNORE_WRITES = "ignore_writes"  # every write acknowledged as a success; nothing changes
    WEB_DOWN = "web_down"  # the web API refuses connections while the RPC still answers
    RPC_DOWN = "rpc_down"  # the RPC refuses connections while the web API still answers
    EXCEPTION = "exception"  # Modbus reads answered with exception 4 (the meter's)
    GARBAGE = "garbage"  # requests answered with bytes that are not the protocol (the meter's)


@dataclass(frozen=True, kw_only=True, slots=True)
class FaultMenu:
    """The faults one kind of simulated device can show, and other names it takes for them."""

    device: str  # for messages: "device", "meter"
    kinds: frozenset[FaultKind]
    aliases: Mapping[str, FaultKind] = field(default_factory=dict)

    @property
    def known(self) -> str:
        return ", ".join(kind.value for kind in FaultKind if kind in self.kinds)


DEVICE_FAULTS = FaultMenu(
    device="device", kinds=frozenset(FaultKind) - {FaultKind.EXCEPTION, FaultKind.GARBAGE}
)


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    seconds: float = 0.0  # real seconds; only `slow` uses it

    def __str__(self) -> str:
        return f"{self.kind}={self.seconds:g}" if self.kind is FaultKind.SLOW else str(self.kind)


def parse_fault(
    spec: str | Fault, seconds: float | None = None, menu: FaultMenu = DEVICE_FAULTS
) -> Fault:
    """Read ``"stall"``, ``"slow"``, ``"slow=2.5"`` or a Fault; ``seconds`` overrides."""
    if isinstance(spec, Fault):
        return spec if seconds is None else Fault(spec.kind, seconds)
    name, _, value = spec.strip().partition("=")
    key = name.strip().lower()
    kind = menu.aliases.get(key) or next((k for k in FaultKind if k.value == key), None)
    if kind is None:
        label = "" if menu is DEVICE_FAULTS else f"{menu.device} "
        raise UnknownFaultError(f"unknown {label}fault {key!r} (known: {menu.known})")
    if kind not in menu.kinds:
        raise UnknownFaultError(
            f"fault {key!r} does not apply to a {menu.device} (known: {menu.known})"
        )
    if seconds is None:
        try:
            seconds = float(value) if value else DEFAULT_SLOW_S
        except ValueError:
            raise UnknownFaultError(f"fault {spec!r}: {value!r} is not a number") from None
    if seconds < 0:
        raise UnknownFaultError(f"fault {spec!r}: seconds must not be negative")
    return Fault(kind, seconds if kind is FaultKind.SLOW else 0.0)


class FaultSet:
    """The faults active on one device; mutable, checked on every connection."""

    __slots__ = ("_faults", "_host", "_menu")

    def __init__(
        self, host: str, initial: tuple[Fault, ...] = (), *, menu: FaultMenu = DEVICE_FAULTS
    ) -> None:
        self._host = host  # for log lines: the address, or "meter <address>"
        self._menu = menu
        self._faults: dict[FaultKind, Fault] = {f.kind: f for f in initial}

    def inject(self, fault: str | Fault, *, seconds: float | None = None) -> Fault:
        parsed = parse_fault(fault, seconds, self._menu)
        if self._faults.get(parsed.kind) != parsed:
            _log.info("%s: fault %s injected", self._host, parsed)
        self._faults[parsed.kind] = parsed
        return parsed

    def clear(self, fault: str | FaultKind | None = None) -> None:
        if fault is None:
            if self._faults:
                _log.info("%s: faults cleared", self._host)
            self._faults.clear()
            return
        kind = parse_fault(fault, menu=self._menu).kind if isinstance(fault, str) else fault
        if self._faults.pop(kind, None) is not None:
            _log.info("%s: fault %s cleared", self._host, kind)

    def has(self, kind: FaultKind) -> bool:
        return kind in self._faults

    @property
    def active(self) -> tuple[Fault, ...]:
        return tuple(self._faults.values())

    @property
    def slow_s(self) -> float:
        fault = self._faults.get(FaultKind.SLOW)
        return fault.seconds if fault else 0.0

    def __bool__(self) -> bool:
        return bool(self._faults)

    def __repr__(self) -> str:
        return f"FaultSet({self._host}, {[str(f) for f in self._faults.values()]})"


def corrupt(payload: bytes) -> bytes:
    """What `malformed` sends: the same bytes with the first ':' broken."""
    return payload.replace(b":", b"=", 1) if b":" in payload else b"{" + payload


def truncate(payload: bytes) -> bytes:
    """What `truncated` sends before closing: the first half."""
    return payload[: max(1, len(payload) // 2)]

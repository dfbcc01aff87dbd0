"""Faults a simulated meter can show, set like every device's (``meter.faults.inject``).

The network faults shared with the miners (``refuse``, ``stall``, ``slow=SECONDS``) are
parsed by :func:`simulators.faults.parse_fault`, so they read the same in site files;
``malformed`` is accepted as another name for ``garbage``. Two are the meter's own:

* ``exception``: every read is answered with Modbus exception 4 (server device failure);
* ``garbage``: every request is answered with bytes that are not a Modbus reply.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from simulators.errors import UnknownFaultError
from simulators.faults import FaultKind, parse_fault

__all__ = ["MeterFault", "MeterFaultKind", "MeterFaults", "parse_meter_fault"]

_log = logging.getLogger(__name__)


class MeterFaultKind(StrEnum):
    REFUSE = "refuse"  # connections are closed as soon as they open (or next speak)
    STALL = "stall"  # requests are read and never answered
    SLOW = "slow"  # replies are sent after `seconds` real seconds
    EXCEPTION = "exception"  # reads answered with Modbus exception 4
    GARBAGE = "garbage"  # requests answered with bytes that are not Modbus


_SHARED = {
    FaultKind.REFUSE: MeterFaultKind.REFUSE,
    FaultKind.STALL: MeterFaultKind.STALL,
    FaultKind.SLOW: MeterFaultKind.SLOW,
    FaultKind.MALFORMED: MeterFaultKind.GARBAGE,
}


@dataclass(frozen=True, slots=True)
class MeterFault:
    kind: MeterFaultKind
    seconds: float = 0.0  # real seconds; only `slow` uses it

    def __str__(self) -> str:
        return (
            f"{self.kind}={self.seconds:g}" if self.kind is MeterFaultKind.SLOW else str(self.kind)
        )


def parse_meter_fault(spec: str | MeterFault, seconds: float | None = None) -> MeterFault:
    """Read ``"stall"``, ``"slow=2.5"``, ``"exception"``, ``"garbage"`` or a MeterFault."""
    if isinstance(spec, MeterFault):
        return spec if seconds is None else MeterFault(spec.kind, seconds)
    name = spec.partition("=")[0].strip().lower()
    if name in (MeterFaultKind.EXCEPTION, MeterFaultKind.GARBAGE):
        return MeterFault(MeterFaultKind(name))
    known = ", ".join(kind.value for kind in MeterFaultKind)
    try:
        shared = parse_fault(spec, seconds)
    except UnknownFaultError as exc:
        if name in {kind.value for kind in FaultKind}:
            raise  # a known name with a bad value: the shared message says which
        raise UnknownFaultError(f"unknown meter fault {name!r} (known: {known})") from exc
    kind = _SHARED.get(shared.kind)
    if kind is None:
        raise UnknownFaultError(f"fault {name!r} does not apply to a meter (known: {known})")
    return MeterFault(kind, shared.seconds)


class MeterFaults:
    """The faults active on one simulated meter; checked on every connection and request."""

    __slots__ = ("_faults", "_host")

    def __init__(self, host: str, initial: tuple[MeterFault, ...] = ()) -> None:
        self._host = host
        self._faults: dict[MeterFaultKind, MeterFault] = {f.kind: f for f in initial}

    def inject(self, fault: str | MeterFault, *, seconds: float | None = None) -> MeterFault:
        parsed = parse_meter_fault(fault, seconds)
        if self._faults.get(parsed.kind) != parsed:
            _log.info("meter %s: fault %s injected", self._host, parsed)
        self._faults[parsed.kind] = parsed
        return parsed

    def clear(self, fault: str | MeterFaultKind | None = None) -> None:
        if fault is None:
            if self._faults:
                _log.info("meter %s: faults cleared", self._host)
            self._faults.clear()
            return
        kind = fault if isinstance(fault, MeterFaultKind) else parse_meter_fault(fault).kind
        if self._faults.pop(kind, None) is not None:
            _log.info("meter %s: fault %s cleared", self._host, kind)

    def has(self, kind: MeterFaultKind) -> bool:
        return kind in self._faults

    @property
    def active(self) -> tuple[MeterFault, ...]:
        return tuple(self._faults.values())

    @property
    def slow_s(self) -> float:
        fault = self._faults.get(MeterFaultKind.SLOW)
        return fault.seconds if fault else 0.0

    def __bool__(self) -> bool:
        return bool(self._faults)

    def __repr__(self) -> str:
        return f"MeterFaults({self._host}, {[str(f) for f in self._faults.values()]})"

"""Faults a simulated meter can show, set like every device's (``meter.faults.inject``).

The meter's menu of the shared faults (simulators/faults.py): the network faults shared
with the miners (``refuse``, ``stall``, ``slow=SECONDS``) read the same in site files;
``malformed`` is accepted as another name for ``garbage``. Two are the meter's own:

* ``exception``: every read is answered with Modbus exception 4 (server device failure);
* ``garbage``: every request is answered with bytes that are not a Modbus reply.
"""

from __future__ import annotations

from simulators.faults import Fault, FaultKind, FaultMenu, FaultSet, parse_fault

__all__ = ["METER_FAULTS", "meter_faults", "parse_meter_fault"]

METER_FAULTS = FaultMenu(
    device="meter",
    kinds=frozenset(
        {FaultKind.REFUSE, FaultKind.STALL, FaultKind.SLOW, FaultKind.EXCEPTION, FaultKind.GARBAGE}
    ),
    aliases={"malformed": FaultKind.GARBAGE},
)


def parse_meter_fault(spec: str | Fault, seconds: float | None = None) -> Fault:
    """Read ``"stall"``, ``"slow=2.5"``, ``"exception"``, ``"garbage"`` or a Fault."""
    return parse_fault(spec, seconds, METER_FAULTS)


def meter_faults(address: str, initial: tuple[Fault, ...] = ()) -> FaultSet:
    """The faults active on one meter; checked on every connection and request."""
    return FaultSet(f"meter {address}", initial, menu=METER_FAULTS)

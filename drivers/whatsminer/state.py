"""What a Whatsminer is doing, from its own flags: stopped, ramping, hashing or stuck.

Unlike stock Antminer firmware the unit says whether it was stopped
(``mineroff`` / ``working``) and whether every board finished its frequency
ramp (``Upfreq Complete`` / ``up-freq-finish``), so little is inferred.
"""

from __future__ import annotations

from drivers.models import ModelSpec
from drivers.types import MiningState
from drivers.whatsminer.records import Reading

__all__ = ["mining_state"]

_SETTLED_SHARE = 0.9
_DEFAULT_FIRST_HASH_S = 180.0
_DEFAULT_SETTLE_S = 900.0


def mining_state(
    mining_off: bool | None,
    reading: Reading | None,
    spec: ModelSpec | None,
    since_wake_s: float | None = None,
) -> MiningState:
    if mining_off:
        return MiningState.SLEEPING
    if reading is None or reading.hashrate_hs is None:
        return MiningState.UNKNOWN
    first_hash_s = 2 * spec.wake_to_hash_s if spec else _DEFAULT_FIRST_HASH_S
    settle_s = spec.wake_to_nameplate_s if spec else _DEFAULT_SETTLE_S
    clocks = [t for t in (reading.elapsed_s, since_wake_s) if t is not None]
    if reading.hashrate_hs <= 0:
        starting = reading.ramp_done is False or any(t < first_hash_s for t in clocks)
        return MiningState.STARTING if starting else MiningState.FAULT
    if reading.ramp_done is False:
        return MiningState.STARTING
    if reading.ramp_done is None:
        # No ramp flag (older firmware): a rate well under nameplate soon after a start is a ramp.
        nameplate = reading.nameplate_hs
        ramping = nameplate is not None and reading.hashrate_hs < _SETTLED_SHARE * nameplate
        if ramping and any(t < settle_s for t in clocks):
            return MiningState.STARTING
    return MiningState.HASHING

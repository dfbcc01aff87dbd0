"""What an Antminer is doing and drawing, derived from its work mode, rates and uptime.

Stock firmware has no "state" field and no power reading: the work mode says
whether it was told to sleep, the hashrate and bmminer's uptime say whether it
is ramping or stuck, and the model table turns hashrate into an estimated draw.
"""

from __future__ import annotations

from drivers.antminer.records import WorkMode
from drivers.models import ModelSpec
from drivers.types import MiningState, PowerMode

__all__ = ["estimate_power", "mining_state", "power_mode"]

# Below this share of its nameplate a unit still inside its ramp time counts as starting.
_SETTLED_SHARE = 0.9
# Without a model row, how long a restarted unit may take before zero hashrate is a fault.
_DEFAULT_FIRST_HASH_S = 240.0
_DEFAULT_SETTLE_S = 900.0

_POWER_MODES = {
    WorkMode.NORMAL: PowerMode.NORMAL,
    WorkMode.SLEEP: PowerMode.SLEEP,
    WorkMode.LOW: PowerMode.LOW,
}


def power_mode(work_mode: int | None) -> PowerMode | None:
    return None if work_mode is None else _POWER_MODES.get(work_mode)


def mining_state(
    work_mode: int | None,
    hashrate_hs: float | None,
    nameplate_hs: float | None,
    uptime_s: float | None,
    spec: ModelSpec | None,
    since_wake_s: float | None = None,
) -> MiningState:
    """``since_wake_s``: seconds since this driver saw the unit leave sleep, if it did.

    bmminer restarts on wake, so its uptime is normally the time since wake; the
    driver's own memory covers firmware that keeps the counter running.
    """
    if work_mode == WorkMode.SLEEP:
        return MiningState.SLEEPING
    if hashrate_hs is None:
        return MiningState.UNKNOWN
    first_hash_s = 2 * spec.wake_to_hash_s if spec else _DEFAULT_FIRST_HASH_S
    settle_s = spec.wake_to_nameplate_s if spec else _DEFAULT_SETTLE_S
    clocks = [t for t in (uptime_s, since_wake_s) if t is not None]
    if hashrate_hs <= 0:
        starting = any(t < first_hash_s for t in clocks)
        return MiningState.STARTING if starting else MiningState.FAULT
    ramping = nameplate_hs is not None and hashrate_hs < _SETTLED_SHARE * nameplate_hs
    if ramping and any(t < settle_s for t in clocks):
        return MiningState.STARTING
    return MiningState.HASHING


def estimate_power(
    spec: ModelSpec | None, state: MiningState, hashrate_hs: float | None
) -> float | None:
    """Nameplate watts scaled by the hashrate share; the residual draw when not hashing."""
    if spec is None:
        return None
    if not hashrate_hs or hashrate_hs <= 0 or not spec.nameplate_hs:
        return spec.sleep_w if state is not MiningState.UNKNOWN else None
    return max(spec.sleep_w, spec.nameplate_w * hashrate_hs / spec.nameplate_hs)

"""Builders for policy-engine tests: a few lines make a site, its market and its grid."""

from __future__ import annotations

from functools import cache

from controller.policy import (
    AiClass,
    AiValue,
    DeviceProfile,
    Economics,
    EventKind,
    Fleet,
    FleetDevice,
    Grid,
    GridEvent,
    Hashprice,
    PolicyInputs,
    PolicySettings,
    PowerPrice,
)
from controller.state.domain import Health
from drivers import Make, MiningState, lookup_model

T0 = 1_750_000_000.0  # a fixed "now"; no test reads a clock
MINER_MAKES = {
    "S19j Pro": Make.ANTMINER, "S19 XP": Make.ANTMINER, "S21": Make.ANTMINER,
    "S21 XP": Make.ANTMINER, "M30S++": Make.WHATSMINER, "M50S": Make.WHATSMINER,
    "M60S": Make.WHATSMINER, "HGX H100 8-GPU": Make.GPU, "HGX H200 8-GPU": Make.GPU,
}  # fmt: skip


@cache
def profile(model: str, ai: AiClass | None = None, group: str = "") -> DeviceProfile:
    spec = lookup_model(MINER_MAKES[model], model)
    return DeviceProfile.for_model(spec, ai_class=ai, group=group)


def miner(
    device_id: str,
    model: str = "S19j Pro",
    state: MiningState = MiningState.HASHING,
    *,
    health: Health = Health.HEALTHY,
    last_change: float | None = None,
    cycles: int = 0,
    group: str = "",
    now: float = T0,
) -> FleetDevice:
    return FleetDevice(
        device_id=device_id,
        profile=profile(model, None, group),
        state=state,
        health=health,
        power_w=None,
        observed_at=now,
        last_state_change_at=last_change,
        cycles_today=cycles,
    )


def gpu(
    device_id: str,
    ai: AiClass = AiClass.INTERRUPTIBLE,
    level: str = "full",
    *,
    health: Health = Health.HEALTHY,
    last_change: float | None = None,
    cycles: int = 0,
    now: float = T0,
) -> FleetDevice:
    prof = profile("HGX H200 8-GPU", ai)
    assert prof.gpu_power_limit_range_w is not None
    lo, hi = prof.gpu_power_limit_range_w
    limit = lo if level == "capped" else hi
    return FleetDevice(
        device_id=device_id,
        profile=prof,
        state=MiningState.HASHING,
        health=health,
        power_w=None,
        observed_at=now,
        last_state_change_at=last_change,
        cycles_today=cycles,
        gpu_power_limit_w=limit,
        schedulable=level != "drained",
    )


def economics(
    price: float = 40.0, hashprice: float = 24.0, *, now: float = T0, as_of: float | None = None
) -> Economics:
    at = now if as_of is None else as_of
    return Economics(
        hashprice=Hashprice(hashprice, at, "test"),
        power_price=PowerPrice(usd_per_mwh=price, as_of=at, source="test"),
        ai_value=AiValue(
            contracted_usd_per_gpu_hour=2.0,
            interruptible_usd_per_gpu_hour=1.0,
            idle_usd_per_gpu_hour=0.0,
            as_of=at,
            source="test",
        ),
    )


def instructed(
    level_mw: float,
    start: float = T0 - 60,
    *,
    as_of: float | None = None,
    deadline: float | None = None,
) -> GridEvent:
    """An ERS-10 instruction to ``level_mw`` from ``start`` to an hour after T0, due at
    ``deadline`` (default: at once); ``as_of`` defaults to ``start``."""
    return GridEvent(
        event_id="ERS-10",
        kind=EventKind.INSTRUCTED,
        start=start,
        end=T0 + 3600,
        as_of=start if as_of is None else as_of,
        source="test",
        level_mw=level_mw,
        deadline=start if deadline is None else deadline,
    )


def grid(
    cap_mw: float = 100.0,
    events: tuple[GridEvent, ...] = (),
    *,
    up: float | None = None,
    down: float | None = None,
    tripped: bool = False,
    cleared_at: float | None = None,
    now: float = T0,
) -> Grid:
    return Grid(
        interconnect_cap_mw=cap_mw,
        as_of=now,
        source="test",
        events=events,
        ramp_up_mw_per_min=up,
        ramp_down_mw_per_min=down,
        relay_tripped=tripped,
        relay_cleared_at=cleared_at,
    )


FAST = PolicySettings(
    curtail_after_windows=1,
    resume_after_windows=1,
    min_on_dwell_s=0,
    min_off_dwell_s=0,
    wake_stagger_s=0,
)


def inputs(
    devices: list[FleetDevice] | tuple[FleetDevice, ...],
    *,
    now: float = T0,
    price: float = 40.0,
    hashprice: float = 24.0,
    site: Grid | None = None,
    settings: PolicySettings = FAST,
    as_of: float | None = None,
) -> PolicyInputs:
    return PolicyInputs(
        now=now,
        fleet=Fleet(tuple(devices), now, "test"),
        economics=economics(price, hashprice, now=now, as_of=as_of),
        grid=site or grid(now=now),
        settings=settings,
    )

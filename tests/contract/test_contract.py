"""The promises every miner driver keeps, checked against every simulated (make, model, firmware).

identify, read, sleep, wake, a power target (or the nearest mode where the
model has none), reboot; every injected fault is a typed error within its
timeout; a write changes only what it meant to (pools, fans).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from drivers import (
    CommandOutcome,
    ConfigReadError,
    ConnectionFailed,
    Control,
    DeviceEndpoint,
    DeviceTimeout,
    DriverError,
    Make,
    MiningState,
    PowerMode,
    ProtocolError,
    Reboot,
    SetPowerMode,
    SetPowerTarget,
    Sleep,
    Telemetry,
    Wake,
    WriteNotApplied,
    detect_make,
)
from tests.contract.conftest import SETTINGS, Rig, rig
from tests.contract.registry import CASES, FAULT_CASES, Case

ids = [c.id for c in CASES]
# Several sequential requests at most, each bounded by the connect + read timeouts.
FAULT_BOUND_S = 4 * (SETTINGS.connect_timeout_s + SETTINGS.read_timeout_s)
SETTLE_S = 1800.0  # simulated seconds: past any model's wake-to-nameplate time


async def settled_read(r: Rig, state: MiningState, tries: int = 5) -> Telemetry:
    """Let simulated time pass (ramps, rolling averages, fans), then read until ``state``."""
    r.fleet.clock.advance(SETTLE_S)
    t = await r.driver.read()
    for _ in range(tries):
        if t.mining_state is state:
            return t
        r.fleet.clock.advance(SETTLE_S)
        t = await r.driver.read()
    return t


@pytest.mark.parametrize("case", CASES, ids=ids)
async def test_identify(case: Case) -> None:
    async with rig(case) as r:
        info = await r.driver.identify()
        assert info.make is Make(case.make)
        assert r.driver.spec is not None, f"{info.model!r} missing from the model table"
        assert info.model == r.driver.spec.model
        assert r.driver.spec.model.replace(" ", "").upper() == case.model.replace(" ", "").upper()
        assert r.driver.controls == r.driver.spec.controls
        assert info.mac or info.serial


@pytest.mark.parametrize("case", CASES, ids=ids)
async def test_detect_make_then_open(case: Case) -> None:
    """What ``hashpivot probe`` does: detect the make, then open its driver and read."""
    async with rig(case) as r:
        make = await detect_make(DeviceEndpoint(r.sim.address), SETTINGS)
        assert make is Make(case.make)
        assert (await r.driver.read()).mining_state is MiningState.HASHING


@pytest.mark.parametrize("case", CASES, ids=ids)
async def test_read_matches_the_simulated_truth(case: Case) -> None:
    async with rig(case) as r:
        t = await r.driver.read()
        truth = r.sim.snapshot()
        assert t.mining_state is MiningState.HASHING
        assert t.hashrate_hs == pytest.approx(truth.hashrate_hs, rel=0.1)
        assert t.power_w == pytest.approx(truth.power_w, rel=0.15 if t.power_estimated else 0.05)
        # Units that report no nameplate get the model table's, an estimate for some rows.
        spec = r.driver.spec
        slack = 0.25 if spec is not None and spec.estimated else 0.1
        assert t.nameplate_hashrate_hs == pytest.approx(truth.nameplate_hs, rel=slack)
        assert len(t.fans_rpm) == len(truth.fans_rpm)
        assert t.boards
        assert t.max_temp_c is not None
        assert t.uptime_s is not None


@pytest.mark.parametrize("case", CASES, ids=ids)
async def test_sleep_and_wake_change_nothing_else(case: Case) -> None:
    async with rig(case) as r:
        pools = r.sim.pools
        before = await settled_read(r, MiningState.HASHING)
        asleep = await r.driver.apply(Sleep())
        assert asleep.applied, asleep
        assert (await r.driver.apply(Sleep())).applied  # idempotent
        r.fleet.clock.advance(300)
        t = await r.driver.read()
        assert t.mining_state is MiningState.SLEEPING
        assert t.power_mode is PowerMode.SLEEP
        assert not t.hashrate_hs
        assert r.sim.snapshot().power_w < 0.1 * r.sim.snapshot().nameplate_w
        assert r.sim.pools == pools
        awake = await r.driver.apply(Wake())
        assert awake.applied, awake
        after = await settled_read(r, MiningState.HASHING)
        assert after.hashrate_hs == pytest.approx(r.sim.snapshot().hashrate_hs, rel=0.1)
        assert r.sim.pools == pools
        # Fans are the firmware's to run: back to the same count and about the same speed.
        assert len(after.fans_rpm) == len(before.fans_rpm)
        for was, now in zip(before.fans_rpm, after.fans_rpm, strict=True):
            assert now == pytest.approx(was, rel=0.25)


@pytest.mark.parametrize("case", CASES, ids=ids)
async def test_power_target_or_nearest_mode(case: Case) -> None:
    async with rig(case) as r:
        await r.driver.identify()
        spec = r.driver.spec
        assert spec is not None
        pools = r.sim.pools
        target = round(0.8 * spec.nameplate_w)
        outcome: CommandOutcome = await r.driver.apply(SetPowerTarget(target))
        assert outcome.applied, outcome
        t = await settled_read(r, MiningState.HASHING)
        if Control.POWER_TARGET in r.driver.controls:
            assert outcome.substituted is None
            assert t.power_limit_w == pytest.approx(target, abs=1)
            assert r.sim.snapshot().power_w <= target * 1.05
        else:  # stock firmware without a power target: the nearest mode, said so
            assert outcome.substituted == SetPowerMode(PowerMode.LOW)
            assert outcome.notes
            assert t.power_mode is PowerMode.LOW
        assert r.sim.pools == pools


@pytest.mark.parametrize("case", CASES, ids=ids)
async def test_power_modes(case: Case) -> None:
    async with rig(case) as r:
        assert (await r.driver.apply(SetPowerMode(PowerMode.LOW))).applied
        t = await settled_read(r, MiningState.HASHING)
        assert t.power_mode is PowerMode.LOW
        assert (await r.driver.apply(SetPowerMode(PowerMode.NORMAL))).applied
        t = await settled_read(r, MiningState.HASHING)
        assert t.power_mode is PowerMode.NORMAL


@pytest.mark.parametrize("case", CASES, ids=ids)
async def test_reboot(case: Case) -> None:
    async with rig(case) as r:
        pools = r.sim.pools
        outcome = await r.driver.apply(Reboot())
        assert outcome.applied
        drv = await r.reopen()
        t = await settled_read(r, MiningState.HASHING)
        assert t.mining_state is MiningState.HASHING, t
        assert drv.spec is not None
        assert r.sim.pools == pools


@pytest.mark.parametrize("case", CASES, ids=ids)
async def test_acknowledged_but_not_applied_is_never_hidden(case: Case) -> None:
    """A unit that acks sleep and keeps hashing: WriteNotApplied, or hashing visible."""
    async with rig(case) as r:
        r.sim.faults.inject("ack_sleep_keep_hashing")
        try:
            outcome = await r.driver.apply(Sleep())
        except WriteNotApplied:
            return
        assert outcome.applied
        r.fleet.clock.advance(300)
        t = await r.driver.read()
        truth = r.sim.snapshot()
        assert truth.hashrate_hs > 0
        assert t.hashrate_hs == pytest.approx(truth.hashrate_hs, rel=0.1)
        assert t.power_w is not None
        assert t.power_w > 0.5 * truth.nameplate_w


EXPECTED: dict[str, tuple[type[DriverError], ...]] = {
    "refuse": (ConnectionFailed,),
    "stall": (DeviceTimeout,),
    "slow=3": (DeviceTimeout,),
    "malformed": (ProtocolError,),
    "truncated": (ProtocolError, ConnectionFailed),
}
FAULTS = [(c, f) for c in FAULT_CASES for f in c.faults]
PARTIAL = [(c, f) for c in FAULT_CASES for f in c.partial_faults]


@pytest.mark.parametrize("stage", ["identify", "read", "sleep"])
@pytest.mark.parametrize(("case", "fault"), FAULTS, ids=[f"{c.id}-{f}" for c, f in FAULTS])
async def test_every_fault_is_a_typed_error_in_time(case: Case, fault: str, stage: str) -> None:
    async with rig(case) as r:
        if stage != "identify":
            await r.driver.identify()
            await r.reopen()  # faults reach new connections: drop the kept ones
            await r.driver.identify()
            await r.driver.close()
        pools = r.sim.pools
        r.sim.faults.inject(fault)
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "identify": r.driver.identify,
            "read": r.driver.read,
            "sleep": lambda: r.driver.apply(Sleep()),
        }
        expected = EXPECTED[fault] + ((ConfigReadError,) if stage == "sleep" else ())
        start = time.monotonic()
        with pytest.raises(expected):
            await calls[stage]()
        assert time.monotonic() - start < FAULT_BOUND_S
        r.sim.faults.clear()
        assert r.sim.pools == pools
        await r.reopen()
        assert (await r.driver.read()).mining_state in (MiningState.HASHING, MiningState.SLEEPING)


@pytest.mark.parametrize(("case", "fault"), PARTIAL, ids=[f"{c.id}-{f}" for c, f in PARTIAL])
async def test_one_interface_down(case: Case, fault: str) -> None:
    """Reads go on through the other interface, or fail typed and in time."""
    async with rig(case) as r:
        await r.driver.identify()
        await r.reopen()
        r.sim.faults.inject(fault)
        start = time.monotonic()
        try:
            t = await r.driver.read()
        except DriverError:
            pass
        else:
            assert t.mining_state is MiningState.HASHING
        assert time.monotonic() - start < FAULT_BOUND_S

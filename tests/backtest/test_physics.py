"""The backtest moves devices with the simulators' physics, and cohorts change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.backtest.fleet import SimFleet
from controller.backtest.site import load_backtest_site
from controller.backtest.stepper import simulate
from controller.backtest.strategies import AlwaysMine, Hashpivot
from controller.backtest.units import SteppedClock
from controller.policy import DeviceCommand, EventKind
from drivers import SetPowerTarget, Sleep, Wake
from simulators.antminer.device import AntminerDevice
from simulators.antminer.models import lookup_antminer_model
from simulators.physics import Phase, WorkMode
from tests.backtest.helpers import STEP, T0, inputs, program_event, write_site


def test_a_wake_follows_the_simulated_antminer(tmp_path: Path) -> None:
    site = write_site(tmp_path, [{"make": "antminer", "model": "S21", "start": "127.0.190.1"}])
    fleet = SimFleet(site, T0)
    clock = SteppedClock(0.0)  # the simulator's own device, on the same kind of clock
    clock.set(T0)
    device = AntminerDevice("127.0.190.1", lookup_antminer_model("S21"), clock)
    fleet.apply((DeviceCommand("127.0.190.1", Sleep()),), T0)
    device.physics.set_mode(WorkMode.SLEEP)
    fleet.run_until(T0 + 1800)
    clock.set(T0 + 1800)
    fleet.apply((DeviceCommand("127.0.190.1", Wake()),), T0 + 1800)
    device.physics.set_mode(WorkMode.NORMAL)
    unit = fleet.cohorts[0].unit
    # Boot (120 s at boot power), then a 600 s hashrate ramp: point for point the same.
    for offset in (0.0, 30.0, 150.0, 400.0, 719.0, 900.0):
        t = T0 + 1800 + offset
        assert unit.power_w(t) == pytest.approx(device.physics.reading(t)[1], rel=1e-12)
    assert device.physics.phase(T0 + 1800 + 150) is Phase.RAMPING


def test_whatsminer_power_limit_restarts_mining(tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        [{"make": "whatsminer", "model": "M60S", "start": "127.0.190.1", "api_writes": True}],
    )
    fleet = SimFleet(site, T0)
    fleet.apply((DeviceCommand("127.0.190.1", SetPowerTarget(2000)),), T0)
    unit = fleet.cohorts[0].unit
    # Mining restarts: the draw falls to the boot level (60 W, reached at the end of the
    # 90 s boot) before ramping to the cap.
    assert unit.power_w(T0 + 30) < 100
    assert unit.power_w(T0 + 90) == pytest.approx(60.0)
    assert unit.power_w(T0 + 3600) == pytest.approx(2000.0)


def test_cohorts_split_and_merge_without_changing_energy(tmp_path: Path) -> None:
    entry = {"make": "antminer", "model": "S21", "start": "127.0.190.1", "count": 3}
    site = write_site(tmp_path, [entry])
    fleet = SimFleet(site, T0)
    assert len(fleet.cohorts) == 1
    fleet.apply((DeviceCommand("127.0.190.2", Sleep()),), T0)
    assert sorted(len(c.members) for c in fleet.cohorts) == [1, 2]
    fleet.run_until(T0 + 900)
    got = fleet.take(T0, T0 + 900)
    asleep = 20 * (3500 + 25) / 2 + (900 - 20) * 25  # stopping over 20 s, then asleep
    assert got.miner_j == pytest.approx(2 * 3500 * 900 + asleep)
    fleet.apply((DeviceCommand("127.0.190.2", Wake()),), T0 + 900)
    fleet.run_until(T0 + 3600)
    fleet.take(T0 + 900, T0 + 3600)  # settled (boot 120 s + ramp 600 s): one cohort again
    # Settled in the same state, but the woken one's wake counts against its daily cycle
    # limit for 24 hours: the policy tells them apart until then, so they stay apart.
    assert len(fleet.cohorts) == 2
    fleet.run_until(T0 + 26 * 3600)
    fleet.take(T0 + 3600, T0 + 26 * 3600)
    assert len(fleet.cohorts) == 1
    assert fleet.wakes == [0, 1, 0]


def test_example_site_joins_config_and_site_file() -> None:
    site = load_backtest_site(Path("deploy/examples/site-small.yaml"), None)
    counts = site.counts()
    assert counts["gpu H200 contracted"] == 1
    assert counts["gpu H200 interruptible"] == 1
    assert counts["whatsminer M60S (no writes)"] == 1  # API switch off: left alone
    assert site.other_load_w == 40_000
    assert site.settings.plan_interval_s == 300


def test_a_relay_trip_cuts_the_miners_and_power_returns_after(tmp_path: Path) -> None:
    held = {"make": "whatsminer", "model": "M60S", "start": "127.0.190.9"}  # API writes off
    site = write_site(
        tmp_path, [{"make": "antminer", "model": "S21", "start": "127.0.190.1"}, held]
    )
    trip = program_event(EventKind.RELAY_TRIP, event_id="trip", end=T0 + 2 * STEP)
    data = inputs([30.0] * 8, events=(trip,))
    for strategy in (Hashpivot(), AlwaysMine()):
        trace = simulate(site, data, strategy)
        during = [p for p in trace.periods if T0 + STEP + 60 <= p.start < T0 + 2 * STEP]
        assert all(p.miner_j / (p.end - p.start) < 100 for p in during), strategy.name
        last = trace.periods[-1]
        # Power is back: the held unit boots on its own, the S21 runs again.
        assert last.miner_j / (last.end - last.start) == pytest.approx(3500 + 3441, rel=1e-6)
        assert trace.wakes == [1, 1]

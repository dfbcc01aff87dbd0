"""The make-independent physical model on a clock that tests move by hand."""

from __future__ import annotations

import pytest

from simulators.clock import SimClock
from simulators.physics import MinerPhysics, Phase, PhysicsSpec, Timings, WorkMode

SPEC = PhysicsSpec(nameplate_hs=200e12, nameplate_w=3500.0, boards=3, fans=4)
TIMINGS = Timings(stop_s=20.0, boot_s=120.0, ramp_s=600.0, reboot_s=90.0)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(speed=1e-9)  # effectively frozen: only advance() moves it


@pytest.fixture
def miner(clock: SimClock) -> MinerPhysics:
    return MinerPhysics(SPEC, clock, timings=TIMINGS, seed=7, uptime_s=7200.0)


def test_running_at_nameplate_with_noise(miner: MinerPhysics) -> None:
    sample = miner.sample()
    assert sample.phase is Phase.RUNNING
    assert sample.hashrate_hs == pytest.approx(200e12, rel=0.03)
    assert sample.power_w == pytest.approx(3500, rel=0.03)
    assert sum(sample.board_hashrates_hs) == pytest.approx(200e12, rel=0.05)
    assert len(sample.fans_rpm) == 4
    assert all(rpm > 3000 for rpm in sample.fans_rpm)
    assert sample.uptime_s == pytest.approx(7200, abs=1)


def test_noise_is_small_but_present(miner: MinerPhysics, clock: SimClock) -> None:
    readings = []
    for _ in range(20):
        clock.advance(1)
        readings.append(miner.sample().hashrate_hs)
    assert len(set(readings)) > 1
    assert all(abs(r / 200e12 - 1) < 0.03 for r in readings)


def test_full_sleep_and_wake_cycle(miner: MinerPhysics, clock: SimClock) -> None:
    miner.set_mode(WorkMode.SLEEP)
    assert miner.sample().phase is Phase.STOPPING
    clock.advance(10)
    halfway = miner.sample()
    assert 0 < halfway.power_w < 3500 * 0.75

    clock.advance(11)
    asleep = miner.sample()
    assert asleep.phase is Phase.SLEEP
    assert asleep.hashrate_hs == 0
    assert 10 <= asleep.power_w <= 40
    # Rolling averages lag the instantaneous figures, as on the real firmware.
    assert asleep.hashrate_30m_hs > 150e12

    miner.set_mode(WorkMode.NORMAL)
    clock.advance(60)
    booting = miner.sample()
    assert booting.phase is Phase.BOOTING
    assert booting.hashrate_hs == 0

    clock.advance(61 + 300)
    ramping = miner.sample()
    assert ramping.phase is Phase.RAMPING
    assert 0.3 * 200e12 < ramping.hashrate_hs < 0.7 * 200e12

    clock.advance(301)
    awake = miner.sample()
    assert awake.phase is Phase.RUNNING
    assert awake.hashrate_hs == pytest.approx(200e12, rel=0.03)
    # The mining process restarted at the end of the boot.
    assert awake.uptime_s == pytest.approx(601, abs=2)


def test_low_power_mode_draws_about_thirty_percent_less(
    miner: MinerPhysics, clock: SimClock
) -> None:
    miner.set_mode(WorkMode.LOW_POWER)
    clock.advance(TIMINGS.boot_s + TIMINGS.ramp_s + 1)
    sample = miner.sample()
    assert sample.phase is Phase.RUNNING
    assert sample.power_w == pytest.approx(0.7 * 3500, rel=0.04)
    assert 0.6 * 200e12 < sample.hashrate_hs < 0.9 * 200e12


def test_fans_and_temperatures_follow_power(miner: MinerPhysics, clock: SimClock) -> None:
    hot = miner.sample()
    miner.set_mode(WorkMode.SLEEP)
    clock.advance(300)
    cold = miner.sample()
    assert max(cold.fans_rpm) < min(hot.fans_rpm)
    assert max(cold.chip_temps_c) < min(hot.chip_temps_c)


def test_manual_fan_percentage(miner: MinerPhysics) -> None:
    miner.set_manual_fan(50)
    assert all(2500 <= rpm <= 3500 for rpm in miner.sample().fans_rpm)
    miner.set_manual_fan(0)  # immersion: fans off
    assert miner.sample().fans_rpm == (0, 0, 0, 0)


def test_reboot_goes_offline_then_boots_and_ramps(miner: MinerPhysics, clock: SimClock) -> None:
    miner.reboot()
    assert miner.is_offline()
    clock.advance(91)
    assert miner.sample().phase is Phase.BOOTING
    clock.advance(120)
    assert miner.sample().phase is Phase.RAMPING
    clock.advance(600)
    assert miner.sample().phase is Phase.RUNNING


def test_reboot_while_asleep_comes_back_asleep(miner: MinerPhysics, clock: SimClock) -> None:
    miner.set_mode(WorkMode.SLEEP)
    clock.advance(30)
    miner.reboot()
    clock.advance(91 + 121)
    sample = miner.sample()
    assert sample.phase is Phase.SLEEP
    assert sample.hashrate_hs == 0


def test_instant_timings_for_benchmarks(clock: SimClock) -> None:
    miner = MinerPhysics(SPEC, clock, timings=Timings.instant(), seed=1)
    miner.set_mode(WorkMode.SLEEP)
    assert miner.sample().phase is Phase.SLEEP
    miner.set_mode(WorkMode.NORMAL)
    assert miner.sample().hashrate_hs == pytest.approx(200e12, rel=0.03)


def test_speed_compresses_time() -> None:
    clock = SimClock(speed=60.0)
    assert clock.to_real(600) == pytest.approx(10.0)

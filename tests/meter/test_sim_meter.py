"""The simulated meter on its own: faults, sampling, energy, the site-entry hooks, binding."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from simulators.clock import SimClock
from simulators.errors import PortUnavailableError, UnknownFaultError
from simulators.faults import Fault, FaultKind
from simulators.meter import SimMeter, parse_meter_fault
from simulators.meter.layout import encode_float32, encode_uint64, encode_values, register_count
from simulators.meter.site_entry import build_meter, summed_power, valid_meter_faults
from tests.meter.conftest import SIM_HOST, port_on


@pytest.mark.parametrize(
    ("spec", "kind", "seconds"),
    [
        ("refuse", FaultKind.REFUSE, 0.0),
        ("stall", FaultKind.STALL, 0.0),
        ("slow=2.5", FaultKind.SLOW, 2.5),
        ("slow", FaultKind.SLOW, 5.0),
        ("exception", FaultKind.EXCEPTION, 0.0),
        ("garbage", FaultKind.GARBAGE, 0.0),
        (" Malformed ", FaultKind.GARBAGE, 0.0),
    ],
)
def test_fault_names(spec: str, kind: FaultKind, seconds: float) -> None:
    assert parse_meter_fault(spec) == Fault(kind, seconds)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("explode", "unknown meter fault 'explode'"),
        ("ack_sleep_keep_hashing", "does not apply to a meter"),
        ("truncated", "does not apply to a meter"),
        ("slow=x", "not a number"),
    ],
)
def test_bad_fault_names(spec: str, words: str) -> None:
    with pytest.raises(UnknownFaultError, match=words):
        parse_meter_fault(spec)
    with pytest.raises(ValueError, match=words):  # what pydantic turns into a field error
        valid_meter_faults(("stall", spec))


def test_faults_inject_and_clear() -> None:
    meter = SimMeter(lambda: 0.0, faults=("stall",))
    assert meter.faults.has(FaultKind.STALL)
    meter.faults.inject("slow", seconds=0.5)
    assert meter.faults.slow_s == 0.5
    meter.faults.clear("stall")
    assert [str(f) for f in meter.faults.active] == ["slow=0.5"]
    meter.faults.clear()
    assert not meter.faults


def test_snapshot_noise_feeds_and_ground_truth() -> None:
    meter = SimMeter(lambda: 100_000.0, base_load_w=20_000.0, feeds=3, noise=0.01, seed=4)
    for _ in range(200):
        snap = meter.snapshot()
        assert snap.true_w == 120_000.0
        assert abs(snap.total_w - 120_000.0) <= 1_200.0
        assert len(snap.feeds_w) == 3
        assert sum(snap.feeds_w) == pytest.approx(snap.total_w)
        assert all(0.25 < f / snap.total_w < 0.42 for f in snap.feeds_w)  # +-20% imbalance
    assert meter.last_served is None  # nothing served over Modbus yet


def test_seed_makes_the_noise_repeatable() -> None:
    def totals(seed: int) -> list[float]:
        meter = SimMeter(lambda: 1_000.0, noise=0.05, seed=seed)
        return [meter.snapshot().total_w for _ in range(5)]

    assert totals(1) == totals(1)
    assert totals(1) != totals(2)


def test_energy_integrates_the_trapezoid_over_the_simulated_clock() -> None:
    clock = SimClock(1.0)
    power = [1_000.0]
    meter = SimMeter(lambda: power[0], clock=clock, energy_start_wh=500.0)
    assert meter.snapshot().energy_wh == 500.0
    clock.advance(3600.0)
    power[0] = 3_000.0  # the hour ramps 1 kW -> 3 kW: 2 kWh by the trapezoid
    assert meter.snapshot().energy_wh == pytest.approx(2_500.0, rel=1e-3)
    assert meter.snapshot().taken_at == pytest.approx(clock.unix(), abs=0.5)


def test_layout_encoding() -> None:
    assert encode_float32(1.0) == [0x3F80, 0x0000]
    assert encode_float32(1e40) == [0x7F80, 0x0000]  # beyond float32: +infinity
    assert encode_uint64(2**40 + 7.9) == [0x0000, 0x0100, 0x0000, 0x0007]
    assert encode_uint64(-1.0) == [0, 0, 0, 0]
    words = encode_values(1.0, (0.5, 0.5), 10.0)
    assert len(words) == register_count(2) == 10
    assert words[2:6] == [0, 0, 0, 10]


@dataclass
class FakeDevice:
    power_w: float
    reads: int = 0

    def snapshot(self) -> FakeDevice:
        self.reads += 1
        return self


def test_summed_power_reads_each_device_once_per_call() -> None:
    devices = [FakeDevice(1_000.0), FakeDevice(2_500.0)]
    source = summed_power(devices)  # type: ignore[arg-type]
    assert source() == 3_500.0
    devices[0].power_w = 0.0
    assert source() == 2_500.0
    assert [d.reads for d in devices] == [2, 2]


@dataclass
class Entry:
    address: str = SIM_HOST
    port: int = 502
    unit_id: int = 3
    feeds: int = 4
    base_load_w: float = 7_000.0
    noise: float = 0.0
    energy_start_wh: float = 0.0
    faults: tuple[str, ...] = ("exception",)


def test_build_meter_from_a_site_entry() -> None:
    clock = SimClock(1.0)
    meter = build_meter(Entry(), clock, lambda: 1_000.0, seed=1, port=5020)
    assert (meter.make, meter.model, meter.address) == ("meter", "modbus", SIM_HOST)
    assert (meter.port, meter.unit_id, meter.feeds) == (5020, 3, 4)
    assert meter.faults.has(FaultKind.EXCEPTION)
    assert meter.snapshot().total_w == 8_000.0


async def test_a_taken_port_is_a_typed_error() -> None:
    port = port_on(SIM_HOST)
    async with SimMeter(lambda: 0.0, address=SIM_HOST, port=port) as first:
        assert first.serving
        with pytest.raises(PortUnavailableError) as info:
            await SimMeter(lambda: 0.0, address=SIM_HOST, port=port).start()
    assert info.value.port == port
    assert not first.serving


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="noise"):
        SimMeter(lambda: 0.0, noise=1.5)
    with pytest.raises(ValueError, match="feeds"):
        SimMeter(lambda: 0.0, feeds=33)
    with pytest.raises(UnknownFaultError):
        SimMeter(lambda: 0.0, faults=("explode",))

"""Site load outside the fleet: the meter less the devices' readings at the same time."""

from __future__ import annotations

import time
from dataclasses import replace

from controller.clock import SystemClock
from controller.config.sections import GridConfig
from controller.policy import plan
from controller.reconcile.meter import OtherLoadSource, SitePowerWatch
from controller.reconcile.plans import grid_binds
from controller.state.domain import DeviceIdentity
from controller.state.fleet import DeviceRecord, Fleet
from drivers import DeviceEndpoint, DeviceTimeout, Make, MiningState
from drivers.meter import MeterReading
from drivers.types import Telemetry
from tests.policy.site import grid, inputs, instructed, miner

CLOCK = SystemClock()


class Meter:
    def __init__(self, watts: list[float]) -> None:
        self.watts = watts
        self.fail = False

    async def read(self) -> MeterReading:
        if self.fail:
            raise DeviceTimeout("127.0.0.1", "meter silent")
        return MeterReading(time.time(), self.watts.pop(0), (), None)

    async def close(self) -> None:
        pass


class _Driver:
    spec = None
    controls = frozenset()

    async def close(self) -> None:
        return None


def _fleet(*watts: float) -> Fleet:
    """Devices reading ``watts`` each, now."""
    fleet = Fleet("t")
    for i, w in enumerate(watts):
        endpoint = DeviceEndpoint(f"127.0.130.{i + 1}")
        record = DeviceRecord(
            identity=DeviceIdentity(
                device_id=endpoint.host, make=Make.ANTMINER, model=None, endpoint=endpoint, site="t"
            ),
            driver=_Driver(),  # type: ignore[arg-type]
        )
        record.record_success(
            Telemetry(
                taken_at=time.time(), mining_state=MiningState.HASHING, hashrate_hs=1e14, power_w=w
            )
        )
        fleet.add(record)
    return fleet


async def test_other_load_is_the_meter_less_device_readings_at_that_time() -> None:
    fleet = _fleet(50_000.0, 50_000.0)
    meter = Meter([140_000, 141_000, 139_000, 190_000, 140_500])
    kept: list[float] = []
    watch = SitePowerWatch(
        fleet=fleet, meter=meter, settle_s=5.0, on_other_load=kept.append, clock=CLOCK
    )
    assert watch.other_load_w() == 0.0  # nothing measured, nothing restored, no floor
    for _ in range(5):
        await watch.read_once()
    # 40, 41, 39, 90 (a meter sample ahead of telemetry), 40.5 kW: the median ignores the spike.
    assert watch.other_load_w() == 40_500.0
    assert watch.other_load_source is OtherLoadSource.MEASURED
    assert kept == [40_000.0]  # journaled once measured, then when it moves by 1 kW or 3%
    meter.fail = True
    power = await watch.read_once()
    assert watch.other_load_w() == 40_500.0  # a grid level still applies to the whole site
    # Without the meter the site is estimated, and says so: readings plus the other load.
    assert (power.source, power.watts) == ("estimated", 140_500.0)


async def test_no_sample_is_taken_while_a_device_may_be_changing() -> None:
    fleet = _fleet(50_000.0)
    fleet.records["127.0.130.1"].commanded_at = time.time()  # just slept: the meter is ahead
    watch = SitePowerWatch(fleet=fleet, meter=Meter([20_000]), settle_s=30.0, clock=CLOCK)
    await watch.read_once()
    assert watch.other_load_w() == 0.0


async def test_a_restart_assumes_the_larger_of_the_last_value_and_the_floor_until_measured() -> (
    None
):
    fleet = _fleet(50_000.0)
    watch = SitePowerWatch(
        fleet=fleet,
        meter=Meter([60_000, 60_000, 60_000]),
        other_load_floor_w=5_000.0,
        settle_s=0.0,
        clock=CLOCK,
    )
    watch.restore(33_000.0)
    assert (watch.other_load_w(), watch.other_load_source) == (33_000.0, OtherLoadSource.RESTORED)
    await watch.read_once()  # 10 kW measured once: not yet enough to drop the 33 kW
    assert watch.other_load_w() == 33_000.0
    await watch.read_once()
    await watch.read_once()
    assert (watch.other_load_w(), watch.other_load_source) == (10_000.0, OtherLoadSource.MEASURED)
    no_meter = SitePowerWatch(fleet=fleet, meter=None, other_load_floor_w=35_000.0, clock=CLOCK)
    assert no_meter.other_load_w() == 35_000.0
    assert no_meter.other_load_source is OtherLoadSource.CONFIGURED


async def test_devices_drawing_over_the_meter_never_make_it_negative() -> None:
    watch = SitePowerWatch(fleet=_fleet(80_000.0), meter=Meter([50_000]), settle_s=0.0, clock=CLOCK)
    await watch.read_once()
    assert watch.other_load_w() == 0.0


def test_other_load_alone_does_not_make_the_grid_bind() -> None:
    """Cooling and offices come off the devices' budget; only an event makes sheds grid-urgent."""
    fleet = [miner(f"m{i:02}", "S21") for i in range(10)]
    config = GridConfig(interconnect_cap_mw=1.0)
    busy_site = replace(grid(1.0), other_load_w=40_000.0)
    quiet, _ = plan(inputs(fleet, price=20.0, site=busy_site))
    assert quiet.limit_w == 960_000.0
    assert not grid_binds(quiet, config, reserve_mw=0.0)
    event = instructed(0.060)
    called, _ = plan(inputs(fleet, price=20.0, site=replace(busy_site, events=(event,))))
    assert grid_binds(called, config, reserve_mw=0.0)

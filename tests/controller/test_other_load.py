"""Site load outside the fleet: the meter less the devices as the policy counts them."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from controller.config_sections import GridConfig
from controller.fleet import Fleet
from controller.policy import EventKind, GridEvent, plan
from controller.reconcile.meter import SitePowerWatch
from controller.reconcile.plans import grid_binds
from drivers import DeviceTimeout
from tests.policy.site import T0, grid, inputs, miner


@dataclass
class Reading:
    total_w: float
    taken_at: float


class Meter:
    def __init__(self, watts: list[float]) -> None:
        self.watts = watts
        self.fail = False

    async def read(self) -> Reading:
        if self.fail:
            raise DeviceTimeout("127.0.0.1", "meter silent")
        return Reading(self.watts.pop(0), time.time())

    async def close(self) -> None:
        pass


async def test_other_load_is_the_median_residual_and_holds_while_the_meter_is_away() -> None:
    counted: list[float | None] = [None]
    meter = Meter([150_000, 140_000, 141_000, 139_000, 190_000, 140_500])
    watch = SitePowerWatch(Fleet("t"), meter, counted_devices_w=lambda: counted[0])
    await watch.read_once()
    assert watch.other_load_w() == 0.0  # nothing is estimated before the first plan
    counted[0] = 100_000.0
    for _ in range(5):
        await watch.read_once()
    # 40, 41, 39, 90 (a meter sample ahead of telemetry), 40.5 kW: the median ignores the spike.
    assert watch.other_load_w() == 40_500.0
    meter.fail = True
    await watch.read_once()
    assert watch.other_load_w() == 40_500.0  # a grid level still applies to the whole site


async def test_devices_drawing_under_their_counted_power_never_make_it_negative() -> None:
    watch = SitePowerWatch(Fleet("t"), Meter([50_000]), counted_devices_w=lambda: 80_000.0)
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
    event = GridEvent("ERS-10", EventKind.INSTRUCTED, T0 - 60, T0 + 3600, T0 - 60, "test",
                      level_mw=0.060, deadline=T0 - 60)  # fmt: skip
    called, _ = plan(inputs(fleet, price=20.0, site=replace(busy_site, events=(event,))))
    assert grid_binds(called, config, reserve_mw=0.0)

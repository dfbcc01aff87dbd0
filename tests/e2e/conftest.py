"""A running mixed site under a running controller, with a Modbus meter over it.

``sim_time=True`` runs the controller on the site's own simulated clock (at ``SPEED``),
so devices and controller agree on the time and the configuration's figures are
simulated seconds (``SIM_TIME_CONFIG``): minutes of control pass in seconds. Otherwise the
controller runs on real time while the devices' physics runs fast."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from controller.app import Controller
from controller.config.settings import parse_config
from simulators import Fleet, load_site_dict
from simulators.meter import SimMeter
from tests.conftest import free_port
from tests.e2e.helpers import (
    SIM_TIME_CONFIG,
    Api,
    controller_config,
    device_groups,
    mixed_site,
    until,
    with_overrides,
)

BASE_LOAD_W = 500.0
SPEED = 50  # the simulated devices' physics, simulated seconds per real second


@dataclass
class Site:
    sim: Fleet
    meter: SimMeter
    controller: Controller
    api: Api
    site: dict[str, Any]
    prefix: str

    def now(self) -> float:
        """The controller's time: simulated with ``sim_time``, else the wall clock."""
        return self.controller.clock.time()

    def sim_power(self) -> float:
        return sum(d.snapshot().power_w for d in self.sim.devices)

    def miners(self) -> set[str]:
        return {d.address for d in self.sim.devices if d.make != "gpu"}

    def running(self) -> list[str]:
        """The miners that hash (GPU nodes have no hashrate: see gpu_limits)."""
        return [
            d.address
            for d in self.sim.devices
            if d.make != "gpu" and d.snapshot().hashrate_hs > 0.1 * d.snapshot().nameplate_hs
        ]

    @property
    def contracted(self) -> str:
        return f"{self.prefix}.61"

    @property
    def interruptible(self) -> str:
        return f"{self.prefix}.62"


SiteFactory = Callable[..., AbstractAsyncContextManager[Site]]


@pytest.fixture
def running_site(tmp_path: Path) -> SiteFactory:
    @asynccontextmanager
    async def start(
        prefix: str,
        relay: dict[str, Any] | None = None,
        *,
        sim_time: bool = False,
        **overrides: Any,
    ) -> AsyncIterator[Site]:
        """``relay``: a signals.relay section reading the simulated meter's relay input."""
        site = mixed_site(prefix)
        if sim_time:
            overrides = with_overrides(dict(SIM_TIME_CONFIG), overrides)
        async with Fleet(load_site_dict(site), speed=SPEED, listen="exact") as sim:
            address = f"{prefix}.250"

            def power() -> float:
                return sum(d.snapshot().power_w for d in sim.devices)

            meter = SimMeter(
                power,
                base_load_w=BASE_LOAD_W,
                address=address,
                port=free_port(address),
                clock=sim.clock,
            )
            async with meter:
                port = free_port()
                meter_at = {"host": address, "port": meter.port, "interval_s": 0.25}
                overrides["meter"] = {**meter_at, **overrides.get("meter", {})}
                if relay is not None:
                    signals = dict(overrides.get("signals", {}))
                    signals["relay"] = {"host": address, "port": meter.port, **relay}
                    overrides["signals"] = signals
                config = controller_config(
                    port, device_groups(site), str(tmp_path / f"{prefix}.sqlite"), **overrides
                )
                async with (
                    Controller(
                        parse_config(config), clock=sim.clock if sim_time else None
                    ) as controller,
                    aiohttp.ClientSession() as session,
                ):
                    await until(lambda: controller.loop.view is not None, timeout=20)
                    yield Site(sim, meter, controller, Api(session, port), site, prefix)

    return start

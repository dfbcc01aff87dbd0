"""A running mixed site under a running controller, with a Modbus meter over it."""

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
from tests.e2e.helpers import Api, controller_config, device_groups, mixed_site, until

BASE_LOAD_W = 500.0


@dataclass
class Site:
    sim: Fleet
    meter: SimMeter
    controller: Controller
    api: Api
    site: dict[str, Any]
    prefix: str

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
        prefix: str, relay: dict[str, Any] | None = None, **overrides: Any
    ) -> AsyncIterator[Site]:
        """``relay``: a signals.relay section reading the simulated meter's relay input."""
        site = mixed_site(prefix)
        async with Fleet(load_site_dict(site), speed=50, listen="exact") as sim:
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
                overrides.setdefault(
                    "meter", {"host": address, "port": meter.port, "interval_s": 0.25}
                )
                if relay is not None:
                    signals = dict(overrides.get("signals", {}))
                    signals["relay"] = {"host": address, "port": meter.port, **relay}
                    overrides["signals"] = signals
                config = controller_config(
                    port, device_groups(site), str(tmp_path / f"{prefix}.sqlite"), **overrides
                )
                async with (
                    Controller(parse_config(config)) as controller,
                    aiohttp.ClientSession() as session,
                ):
                    await until(lambda: controller.loop.view is not None, timeout=20)
                    yield Site(sim, meter, controller, Api(session, port), site, prefix)

    return start

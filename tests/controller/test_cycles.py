"""Wake/sleep cycles per device survive a restart: the journal rebuilds them, so the
max-cycles-per-day limit still holds after the daemon is killed and started again."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from controller.app import Controller
from controller.config.settings import parse_config
from simulators import Fleet, load_site_dict
from tests.conftest import free_port
from tests.e2e.helpers import FAST_TIMINGS, Api, api_up, controller_config, running, until

PREFIX = "127.0.125"
HOSTS = [f"{PREFIX}.1", f"{PREFIX}.2"]


def _config(port: int, journal: Path) -> dict[str, Any]:
    return controller_config(
        port,
        [{"make": "antminer", "addresses": HOSTS}],
        str(journal),
        policy={"max_cycles_per_day": 1},
        meter=None,
    )


async def _price(api: Api, usd: float) -> None:
    await api.call("PUT", "/economics", {"power_price_usd_per_mwh": usd, "source": "t"})


async def test_cycle_counts_are_rebuilt_from_the_journal_after_kill_9(tmp_path: Path) -> None:
    units = {
        "make": "antminer",
        "model": "S19j Pro",
        "count": 2,
        "start": HOSTS[0],
        "timings": FAST_TIMINGS,
    }
    site = {"site": "cycles", "devices": [units]}
    journal = tmp_path / "cycles.sqlite"
    async with Fleet(load_site_dict(site), speed=50, listen="exact") as sim:
        # One full cycle (sleep, then wake) under a daemon that is then killed with -9.
        port = free_port()
        config_file = tmp_path / "cycles.yaml"
        config_file.write_text(yaml.safe_dump(_config(port, journal)))
        daemon = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "controller.cli",
            "run",
            str(config_file),
            "--log-level",
            "warning",
            env={**os.environ},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            async with aiohttp.ClientSession() as session:
                api = Api(session, port)
                await api_up(api)
                await _price(api, 500)
                await until(lambda: running(sim) == 0, timeout=20)
                await _price(api, 20)
                await until(lambda: running(sim) == 2, timeout=20)
                await asyncio.sleep(1.0)  # a sweep sees them hashing and journals it
        finally:
            daemon.send_signal(signal.SIGKILL)
            await daemon.wait()

        # The restarted daemon knows each unit has cycled once today.
        config = parse_config(_config(free_port(), journal))
        async with Controller(config) as controller, aiohttp.ClientSession() as session:
            day_ago = time.time() - 86_400
            assert [r.wakes_since(day_ago) for r in controller.fleet] == [1, 1]
            await until(lambda: controller.loop.view is not None, timeout=20)
            api = Api(session, config.listen_port)
            await _price(api, 500)  # worth sleeping, but that would be a second cycle
            await asyncio.sleep(1.5)
            assert running(sim) == 2
            plan = await api.call("GET", "/plan")
            assert any("held: 1 cycles today reached" in r for r, _ in plan["reasons"])

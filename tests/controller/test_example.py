"""``hashpivot run deploy/examples/hashpivot-small.yaml`` controls the whole simulated small
site (deploy/examples/site-small.yaml) on its standard ports: 19 Antminers, 10 Whatsminers
(API v2 and v3, one with its API switch off), 5 Auradines, two H200 GPU nodes and the
Modbus meter on 502. Privileged ports: root, as here and in CI."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from simulators import Fleet, load_site
from tests.conftest import free_port
from tests.e2e.helpers import Api, running

ROOT = Path(__file__).parents[2]
TOKEN = "example-token"
SWITCH_OFF = "127.0.2.51"  # the Whatsminer whose API switch is off


def _privileged() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the small site binds ports 80, 502 and 4028: CI runs as root")
        pytest.skip("the small site binds privileged ports (80, 502, 4028): needs root")


async def test_the_example_config_controls_the_whole_small_site(tmp_path: Path) -> None:
    _privileged()
    port = free_port()
    example = (ROOT / "deploy/examples/hashpivot-small.yaml").read_text()
    config = tmp_path / "small.yaml"
    config.write_text(
        example.replace("127.0.0.1:9861", f"127.0.0.1:{port}").replace(
            "path: small-journal.sqlite", f"path: {tmp_path / 'journal.sqlite'}"
        )
    )
    site = load_site(ROOT / "deploy/examples/site-small.yaml")
    async with Fleet(site, speed=60, listen="exact") as sim:
        assert len(sim) == 36
        daemon = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "controller.cli",
            "run",
            str(config),
            env={**os.environ, "HASHPIVOT_API_TOKEN": TOKEN},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with aiohttp.ClientSession() as session:
                api = Api(session, port, TOKEN)
                status: dict[str, object] = {}

                async def poll() -> bool:
                    nonlocal status
                    try:
                        status = await api.call("GET", "/status")
                    except aiohttp.ClientError:
                        return False
                    health = status["by_health"]
                    assert isinstance(health, dict)
                    return bool(health["healthy"] == 36 and status["plan"])

                async with asyncio.timeout(45):
                    while not await poll():
                        await asyncio.sleep(0.3)
                # Every unit read, through the meter; at the example's prices all run.
                assert status["site_power"]["source"] == "meter"  # type: ignore[index]
                plan = await api.call("GET", "/plan")
                # Hashing pays: the AH3880 that the site file starts at a custom 8 kW target
                # is raised to full power; nothing else is asked of anyone.
                assert [(c["device"], c["command"]) for c in plan["command_list"]] == [
                    ("127.0.3.21", "set_power_target:8700")
                ]
                assert running(sim) == 34  # every miner hashes (GPU nodes have no hashrate)
                gpus = await api.call("GET", "/devices?make=gpu")
                assert gpus["total"] == 2
                assert {d["model"] for d in gpus["devices"]} == {"HGX H200 8-GPU"}

                # A write to the unit with its API switch off is refused, typed, and kept
                # from being sent again; nothing else is disturbed.
                await api.call(
                    "PUT",
                    f"/overrides/{SWITCH_OFF}",
                    {"action": "force_sleep", "ttl_s": 60, "reason": "test"},
                )

                async def refused() -> bool:
                    rows = await api.call("GET", "/journal?kind=command.result&limit=100")
                    return any(
                        e["subject"] == SWITCH_OFF and e["data"]["code"] == "writes_disabled"
                        for e in rows["entries"]
                    )

                async with asyncio.timeout(20):
                    while not await refused():
                        await asyncio.sleep(0.3)
                device = await api.call("GET", f"/devices/{SWITCH_OFF}")
                assert device["health"] == "healthy"
                assert device["stuck"] is True
                assert "writes_disabled" in device["stuck_reason"]
                await asyncio.sleep(1.5)  # several sweeps and plans
                sent = await api.call("GET", "/journal?kind=command.sent&limit=100")
                assert [e["subject"] for e in sent["entries"]].count(SWITCH_OFF) == 1
                assert daemon.returncode is None
                assert running(sim) == 34
        finally:
            if daemon.returncode is None:
                daemon.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(daemon.communicate(), 30)
    assert daemon.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()

"""The controller against a simulated site: polling, health, metrics, promtool."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from controller.app import Controller
from controller.config.settings import parse_config
from controller.state.domain import Health
from drivers import MiningState
from simulators import Fleet
from tests.conftest import antminers, free_port, require_tool

MODELS = ["S19j Pro", "S19 XP", "S21", "S21 XP"]
FIRST = "127.0.70.1"


@pytest.fixture
async def sim() -> AsyncIterator[Fleet]:
    async with antminers("daemon-test", "127.0.70", MODELS) as fleet:
        yield fleet


def _config(port: int, **overrides: object) -> dict[str, object]:
    return {
        "site": "daemon-test",
        "listen": f"127.0.0.1:{port}",
        "poll_interval_s": 0.3,
        "poll_timeout_s": 2.0,
        "unreachable_after": 2,
        "devices": [{"make": "antminer", "start": FIRST, "count": len(MODELS)}],
        **overrides,
    }


async def _until(predicate: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_polls_every_device_and_serves_metrics(sim: Fleet) -> None:
    port = free_port()
    async with Controller(parse_config(_config(port))) as controller:
        await _until(lambda: controller.poller.stats.sweeps >= 1)
        records = {record.identity.device_id: record for record in controller.fleet}
        for device in sim.devices:
            record = records[device.address]
            assert record.health is Health.HEALTHY
            assert record.model == device.model
            assert record.telemetry is not None
            assert record.telemetry.mining_state is MiningState.HASHING
            expected = device.snapshot().hashrate_hs
            assert record.telemetry.hashrate_hs == pytest.approx(expected, rel=0.1)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                body = await response.text()
            async with http.get(f"http://127.0.0.1:{port}/api/v1/status") as response:
                status = await response.json()
    assert 'hashpivot_device_hashrate_hashes_per_second{device="127.0.70.3"' in body
    assert 'model="S21"' in body
    assert "hashpivot_poll_duration_seconds_bucket" in body
    assert status["devices"] == len(MODELS)
    assert status["by_state"] == {"hashing": len(MODELS)}


async def test_metrics_pass_promtool(sim: Fleet) -> None:
    promtool = require_tool("promtool")
    port = free_port()
    async with Controller(parse_config(_config(port))) as controller:
        await _until(lambda: controller.poller.stats.sweeps >= 1)
        sim.device("127.0.70.2").faults.inject("refuse")
        await _until(lambda: sum(controller.poller.stats.errors_by_kind.values()) >= 1)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/metrics") as response,
        ):
            body = await response.read()
    process = await asyncio.create_subprocess_exec(
        promtool,
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(body), 30)
    assert process.returncode == 0, out.decode() + err.decode()
    assert b'hashpivot_poll_errors_total{kind="connection",site="daemon-test"}' in body


async def test_health_transitions_are_logged_once(
    sim: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="controller.state.fleet")
    async with Controller(parse_config(_config(free_port()))) as controller:
        await _until(lambda: controller.poller.stats.sweeps >= 1)
        sick = sim.device("127.0.70.4")
        record = controller.fleet.records["127.0.70.4"]
        sick.faults.inject("refuse")
        await _until(lambda: record.health is Health.UNREACHABLE)
        sweeps = controller.poller.stats.sweeps
        await _until(lambda: controller.poller.stats.sweeps >= sweeps + 3)
        sick.faults.clear()
        await _until(lambda: record.health is Health.HEALTHY)
    lines = [r.getMessage() for r in caplog.records if "127.0.70.4" in r.getMessage()]
    assert len([line for line in lines if "-> degraded" in line]) == 1
    assert len([line for line in lines if "-> unreachable" in line]) == 1
    assert len([line for line in lines if "recovered" in line]) == 1


async def test_a_stalled_device_does_not_hold_up_the_sweep(sim: Fleet) -> None:
    async with Controller(parse_config(_config(free_port(), poll_timeout_s=1.0))) as controller:
        sim.device("127.0.70.1").faults.inject("stall")
        await _until(lambda: controller.poller.stats.sweeps >= 2)
        assert controller.poller.stats.last_sweep_s < 4.0
        healthy = [r for r in controller.fleet if r.health is Health.HEALTHY]
        assert len(healthy) == len(MODELS) - 1

"""A broker that refuses the controller, or accepts and never answers, holds up nothing:
the poller keeps sweeping, the API answers, and the failure is logged once, counted."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from controller.app import Controller
from controller.config.settings import parse_config
from tests.conftest import free_port
from tests.mqtt.broker import PASSWORDS, Broker


@asynccontextmanager
async def stalled_listener() -> AsyncIterator[int]:
    """Accepts TCP connections and never says a word (a wedged broker)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


def config(port: int, mqtt: dict[str, Any]) -> dict[str, Any]:
    return {
        "site": "down",
        "listen": f"127.0.0.1:{port}",
        "poll_interval_s": 0.2,
        "poll_timeout_s": 0.5,
        "devices": [{"make": "antminer", "address": "127.0.183.1"}],  # nothing answers
        "mqtt": {
            "host": "127.0.0.1",
            "timeout_s": 1.0,
            "reconnect_min_s": 0.1,
            "reconnect_max_s": 0.3,
            "telemetry_interval_s": 0,
            "queue_size": 5,
            **mqtt,
        },
    }


async def check_unstalled(settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    api_port = settings["listen"].rsplit(":", 1)[1]
    with caplog.at_level(logging.WARNING, logger="controller.integrations.mqtt"):
        async with Controller(parse_config(settings)) as controller, aiohttp.ClientSession() as s:
            bridge = controller.mqtt
            assert bridge is not None
            sweeps = controller.poller.stats.sweeps
            slowest = 0.0
            for _ in range(15):
                started = time.monotonic()
                async with s.get(f"http://127.0.0.1:{api_port}/api/v1/status") as response:
                    assert response.status == 200
                slowest = max(slowest, time.monotonic() - started)
                await asyncio.sleep(0.2)
            assert slowest < 0.5
            assert controller.poller.stats.sweeps >= sweeps + 5
            assert bridge.connects == 0
            assert not bridge.connected
            assert bridge.outbox.dropped_telemetry > 0  # counted, bounded
            samples = controller.metrics.registry.get_sample_value
            assert samples("hashpivot_mqtt_connected", {"site": "down"}) == 0.0
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1  # a transition, not every attempt
    assert PASSWORDS["hashpivot"] not in caplog.text


@pytest.mark.slow
async def test_a_refusing_broker_holds_up_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = Broker(tmp_path / "mosquitto")
    broker.start()
    try:
        wrong = {"port": broker.port, "username": "hashpivot", "password": "not-the-password"}
        await check_unstalled(config(free_port(), wrong), caplog)
    finally:
        broker.stop()
    assert PASSWORDS["hashpivot"] not in caplog.text


@pytest.mark.slow
async def test_a_broker_that_never_answers_holds_up_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with stalled_listener() as port:
        mqtt = {"port": port, "username": "hashpivot", "password": PASSWORDS["hashpivot"]}
        await check_unstalled(config(free_port(), mqtt), caplog)

"""Birth and last will, read by a plain client: ``online`` while the daemon runs,
``offline`` after a clean stop and, through the broker's will, after a kill -9."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
import yaml

from tests.conftest import free_port, hashpivot_run
from tests.mqtt.broker import PASSWORDS, Broker
from tests.mqtt.watcher import retained

TOPIC = "hashpivot/will/online"


async def _online(broker: Broker) -> bytes | None:
    seen = await asyncio.to_thread(retained, broker.port, "viewer", PASSWORDS["viewer"], TOPIC, 1.0)
    return None if seen is None else seen.payload


async def _until(broker: Broker, payload: bytes, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while await _online(broker) != payload:
            await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_online_then_offline_on_a_clean_stop_and_by_the_will_on_a_kill(
    tmp_path: Path,
) -> None:
    broker = Broker(tmp_path / "mosquitto")
    broker.start()
    config = tmp_path / "hashpivot.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "site": "will",
                "listen": f"127.0.0.1:{free_port()}",
                # Nothing answers there: the daemon runs with the unit unreachable.
                "devices": [{"make": "antminer", "address": "127.0.182.1"}],
                "mqtt": {
                    "host": "127.0.0.1",
                    "port": broker.port,
                    "username": "hashpivot",
                    "password_env": "HP_TEST_MQTT_PASSWORD",
                    "keepalive_s": 5,
                },
            }
        )
    )
    env = {"HP_TEST_MQTT_PASSWORD": PASSWORDS["hashpivot"], "PATH": "/usr/bin:/bin"}

    async def start() -> asyncio.subprocess.Process:
        return await hashpivot_run(
            config,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )

    try:
        daemon = await start()
        await _until(broker, b"online")
        daemon.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(daemon.communicate(), 20)
        assert daemon.returncode == 0, err
        await _until(broker, b"offline")
        # Credentials never reach the log.
        assert PASSWORDS["hashpivot"].encode() not in err

        daemon = await start()
        await _until(broker, b"online")
        daemon.kill()  # no DISCONNECT: the broker publishes the will
        await daemon.wait()
        await _until(broker, b"offline")
    finally:
        if daemon.returncode is None:
            daemon.kill()
            await daemon.wait()
        broker.stop()

"""Mining state and power estimate from work mode, hashrate and uptime."""

from __future__ import annotations

import logging

import pytest

from drivers.antminer.device import AntminerDriver
from drivers.antminer.records import WorkMode
from drivers.antminer.state import estimate_power, mining_state, power_mode
from drivers.errors import ConnectionFailed
from drivers.models import lookup_model
from drivers.settings import DriverSettings
from drivers.types import DeviceEndpoint, Make, MiningState, PowerMode
from tests.drivers.servers import closed_port

S21 = lookup_model(Make.ANTMINER, "S21")
NAMEPLATE = S21.nameplate_hs


@pytest.mark.parametrize(
    ("mode", "hashrate", "uptime", "since_wake", "state"),
    [
        (WorkMode.SLEEP, 0.0, 10, None, MiningState.SLEEPING),
        (WorkMode.SLEEP, NAMEPLATE, 9999, None, MiningState.SLEEPING),  # told to sleep: says so
        (WorkMode.NORMAL, NAMEPLATE, 9999, None, MiningState.HASHING),
        (WorkMode.LOW, 0.6 * NAMEPLATE, 9999, None, MiningState.HASHING),
        (WorkMode.NORMAL, 0.5 * NAMEPLATE, 60, None, MiningState.STARTING),
        (WorkMode.NORMAL, 0.0, 60, None, MiningState.STARTING),
        (WorkMode.NORMAL, 0.0, 9999, None, MiningState.FAULT),
        (WorkMode.NORMAL, 0.0, 9999, 30.0, MiningState.STARTING),  # uptime kept running on wake
        (None, 0.0, 9999, None, MiningState.FAULT),
        (WorkMode.NORMAL, None, 10, None, MiningState.UNKNOWN),
    ],
)
def test_mining_state(
    mode: int | None,
    hashrate: float | None,
    uptime: float,
    since_wake: float | None,
    state: MiningState,
) -> None:
    assert mining_state(mode, hashrate, NAMEPLATE, uptime, S21, since_wake) is state


def test_power_estimate() -> None:
    assert estimate_power(S21, MiningState.HASHING, NAMEPLATE / 2) == pytest.approx(1750)
    assert estimate_power(S21, MiningState.SLEEPING, 0.0) == S21.sleep_w
    assert estimate_power(S21, MiningState.UNKNOWN, None) is None
    assert estimate_power(None, MiningState.HASHING, NAMEPLATE) is None


def test_power_modes() -> None:
    assert power_mode(0) is PowerMode.NORMAL
    assert power_mode(1) is PowerMode.SLEEP
    assert power_mode(3) is PowerMode.LOW
    assert power_mode(2) is None  # model-dependent: never guessed
    assert power_mode(None) is None


async def test_repeated_failures_log_once(caplog: pytest.LogCaptureFixture) -> None:
    endpoint = DeviceEndpoint("127.0.0.1", (("web", closed_port()), ("rpc", closed_port())))
    drv = AntminerDriver(
        endpoint, settings=DriverSettings(connect_timeout_s=0.2, read_timeout_s=0.2)
    )
    caplog.set_level(logging.DEBUG, logger="drivers")
    try:
        for _ in range(3):
            with pytest.raises(ConnectionFailed):
                await drv.read()
    finally:
        await drv.close()
    lines = [r for r in caplog.records if r.name.startswith("drivers.antminer")]
    assert len(lines) == 1
    assert "127.0.0.1" in lines[0].getMessage()

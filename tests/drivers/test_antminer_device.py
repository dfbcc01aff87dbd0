"""AntminerDriver end to end against a minimal fake web API with real Digest auth."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from drivers import open_driver
from drivers.antminer.device import AntminerDriver
from drivers.errors import (
    AuthError,
    ConfigReadError,
    UnsupportedError,
    WriteNotApplied,
)
from drivers.settings import Credentials, DriverSettings
from drivers.types import (
    Control,
    DeviceEndpoint,
    Make,
    MiningState,
    PowerMode,
    Reboot,
    SetPowerMode,
    SetPowerTarget,
    Sleep,
    Wake,
)
from tests.drivers.conftest import capture
from tests.drivers.fake_antminer import FakeAntminer
from tests.drivers.servers import read_request, serve

SETTINGS = DriverSettings(connect_timeout_s=1.0, read_timeout_s=2.0, write_timeout_s=3.0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAntminer]:
    device = FakeAntminer()
    await device.start()
    yield device
    await device.stop()


@pytest.fixture
async def driver(fake: FakeAntminer) -> AsyncIterator[AntminerDriver]:
    endpoint = DeviceEndpoint("127.0.0.1", (("web", fake.port), ("rpc", 1)))
    drv = open_driver(Make.ANTMINER, endpoint, settings=SETTINGS)
    assert isinstance(drv, AntminerDriver)
    yield drv
    await drv.close()


async def test_identify(driver: AntminerDriver) -> None:
    info = await driver.identify()
    assert (info.make, info.model, info.serial, info.mac, info.hostname, info.firmware) == (
        Make.ANTMINER,
        "S19j Pro",
        "FAKESERIAL",
        "02:00:00:00:00:01",
        "fake-1",
        "FR-1.12(fake)",
    )
    assert driver.spec is not None
    assert driver.spec.model == "S19j Pro"
    assert Control.SLEEP in driver.controls
    assert Control.POWER_TARGET not in driver.controls


async def test_read_hashing_with_estimated_power(
    driver: AntminerDriver, fake: FakeAntminer
) -> None:
    fake.hashrate_ghs = 50000.0  # half of nameplate, long after start: a degraded unit
    fake.elapsed = 7200
    t = await driver.read()
    assert t.mining_state is MiningState.HASHING
    assert t.hashrate_hs == pytest.approx(5e13)
    assert t.power_estimated
    assert t.power_w == pytest.approx(2950 / 2)
    assert t.power_mode is PowerMode.NORMAL
    assert t.nameplate_hashrate_hs == pytest.approx(1e14)
    assert t.fans_rpm == (6000, 6000, 5900, 5900)
    assert len(t.boards) == 3
    assert t.boards[2].chip_temp_c == 73
    assert t.max_temp_c == 73
    assert t.uptime_s == 7200


async def test_only_the_first_request_pays_the_digest_challenge(
    driver: AntminerDriver, fake: FakeAntminer
) -> None:
    await driver.identify()
    for _ in range(5):
        await driver.read()
    assert fake.challenges == 1
    assert len(fake.paths) == 1 + 1 + 5 * 2  # the challenged request is sent twice


async def test_wrong_password_is_auth_error(fake: FakeAntminer) -> None:
    endpoint = DeviceEndpoint("127.0.0.1", (("web", fake.port),))
    drv = AntminerDriver(endpoint, credentials=Credentials("root", "wrong"), settings=SETTINGS)
    try:
        with pytest.raises(AuthError):
            await drv.identify()
    finally:
        await drv.close()


@pytest.mark.parametrize(
    ("hashrate", "elapsed", "state"),
    [
        (0.0, 30, MiningState.STARTING),
        (0.0, 7200, MiningState.FAULT),
        (40000.0, 100, MiningState.STARTING),
    ],
)
async def test_starting_and_fault(
    driver: AntminerDriver, fake: FakeAntminer, hashrate: float, elapsed: int, state: MiningState
) -> None:
    fake.hashrate_ghs, fake.elapsed = hashrate, elapsed
    assert (await driver.read()).mining_state is state


@pytest.mark.parametrize("mode_key", ["miner-mode", "bitmain-work-mode"])
async def test_sleep_then_wake_confirmed_by_read_back(
    driver: AntminerDriver, fake: FakeAntminer, mode_key: str
) -> None:
    fake.mode_key = mode_key
    pools_before = fake.conf["pools"]
    outcome = await driver.apply(Sleep())
    assert outcome.applied
    assert fake.mode == 1
    body = fake.writes[-1]
    assert body["miner-mode"] == 1
    assert body["bitmain-work-mode"] == "1"
    assert body["pools"] == pools_before
    assert "bitmain-fan-pwm" in body
    assert "freq-level" in body
    t = await driver.read()
    assert t.mining_state is MiningState.SLEEPING
    assert t.power_w == 25
    assert t.power_mode is PowerMode.SLEEP
    assert (await driver.apply(Wake())).applied
    assert fake.mode == 0
    assert fake.conf["pools"] == pools_before


async def test_sleep_when_asleep_writes_nothing(driver: AntminerDriver, fake: FakeAntminer) -> None:
    fake.conf["bitmain-work-mode"] = "1"
    outcome = await driver.apply(Sleep())
    assert outcome.applied
    assert fake.writes == []


async def test_failed_config_read_never_writes(driver: AntminerDriver, fake: FakeAntminer) -> None:
    await driver.identify()
    fake.fail_conf = True
    with pytest.raises(ConfigReadError):
        await driver.apply(Sleep())
    assert fake.writes == []
    assert fake.conf["pools"][0]["url"] == "stratum+tcp://pool.example:3333"


async def test_config_without_pools_is_never_written_back(
    driver: AntminerDriver, fake: FakeAntminer
) -> None:
    fake.conf["pools"] = [{"url": "", "user": "", "pass": ""}] * 3
    with pytest.raises(ConfigReadError):
        await driver.apply(Sleep())
    assert fake.writes == []


async def test_acknowledged_but_ignored_write_is_not_applied(
    driver: AntminerDriver, fake: FakeAntminer
) -> None:
    fake.ignore_writes = True
    with pytest.raises(WriteNotApplied):
        await driver.apply(Sleep())


async def test_power_modes(driver: AntminerDriver, fake: FakeAntminer) -> None:
    assert (await driver.apply(SetPowerMode(PowerMode.LOW))).applied
    assert fake.mode == 3
    high = await driver.apply(SetPowerMode(PowerMode.HIGH))
    assert high.substituted == SetPowerMode(PowerMode.NORMAL)
    assert fake.mode == 0


@pytest.mark.parametrize(
    ("watts", "mode", "value"), [(2000, PowerMode.LOW, 3), (3000, PowerMode.NORMAL, 0)]
)
async def test_power_target_substitutes_nearest_mode(
    driver: AntminerDriver, fake: FakeAntminer, watts: float, mode: PowerMode, value: int
) -> None:
    fake.conf["bitmain-work-mode"] = "1"
    outcome = await driver.apply(SetPowerTarget(watts))
    assert outcome.substituted == SetPowerMode(mode)
    assert outcome.notes
    assert fake.mode == value


async def test_power_target_on_unknown_model_is_unsupported(
    driver: AntminerDriver, fake: FakeAntminer
) -> None:
    fake.model = "S9 Mystery"
    assert (await driver.identify()).model == "S9 Mystery"
    assert (await driver.read()).power_w is None
    with pytest.raises(UnsupportedError):
        await driver.apply(SetPowerTarget(1000))


async def test_reboot(driver: AntminerDriver, fake: FakeAntminer) -> None:
    assert (await driver.apply(Reboot())).applied
    assert fake.paths[-1] == "/cgi-bin/reboot.cgi"


async def test_firmware_without_stats_cgi_reads_over_rpc(fake: FakeAntminer) -> None:
    commands: list[str] = []

    async def rpc(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command = json.loads(await read_request(reader))["command"]
        commands.append(command)
        if "+" in command:
            reply = {"STATUS": [{"STATUS": "E", "Code": 14, "Msg": "Invalid command"}], "id": 1}
        else:
            reply = capture(f"{command}.json")
        writer.write(json.dumps(reply).encode() + b"\x00")

    fake.no_stats_cgi = True
    async with serve(rpc) as rpc_port:
        endpoint = DeviceEndpoint("127.0.0.1", (("web", fake.port), ("rpc", rpc_port)))
        drv = AntminerDriver(endpoint, settings=SETTINGS)
        try:
            first = await drv.read()
            second = await drv.read()
        finally:
            await drv.close()
    assert first.hashrate_hs == pytest.approx(1.1056689e14)
    assert first.fans_rpm == (6000, 5880, 5040, 5040)
    assert first.mining_state is second.mining_state is MiningState.HASHING
    assert first.uptime_s == 50474
    # identify asks the RPC for its model too; this fake's web (S19j Pro) and the captured
    # RPC (S19 Pro) disagree, so it also reads the boards once to decide (test_identity.py)
    evidence = ["stats+summary", "stats", "summary"]
    assert commands == ["version", *evidence, "stats", "summary", "stats", "summary"]
    assert fake.paths.count("/cgi-bin/stats.cgi") == 1  # the 404 is remembered

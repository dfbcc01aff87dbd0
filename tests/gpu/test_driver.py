"""GpuNodeDriver against the simulated node (agent API and dcgm-exporter) and the real agent."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from drivers.base import MinerDriver
from drivers.errors import (
    AuthError,
    ConnectionFailed,
    DeviceTimeout,
    ProtocolError,
    UnsupportedError,
    WriteNotApplied,
)
from drivers.gpu import LimitOutOfRange, NoGpuPrivilege, RestoreGpuPowerLimits, SetGpuPowerLimit
from drivers.gpu.device import GpuNodeDriver
from drivers.gpu_agent.nvml import GpuNode
from drivers.gpu_agent.nvml_sim import SimulatedNvml
from drivers.gpu_agent.server import make_app
from drivers.settings import DriverSettings
from drivers.types import Control, DeviceEndpoint, Make, MiningState, Sleep
from simulators.gpu.serve import GpuNodeFleet
from tests.conftest import free_port

FAST = DriverSettings(connect_timeout_s=0.5, read_timeout_s=0.5)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def sim() -> AsyncIterator[GpuNodeFleet]:
    async with GpuNodeFleet(2, start="127.64.2.1") as fleet:
        yield fleet


def _driver(host: str, source: str = "agent", token: str | None = "hashpivot-sim") -> GpuNodeDriver:
    return GpuNodeDriver(DeviceEndpoint(host), token=token, source=source, settings=FAST)  # type: ignore[arg-type]


@pytest.mark.parametrize("source", ["agent", "dcgm"])
async def test_identify_and_read_from_either_source(sim: GpuNodeFleet, source: str) -> None:
    driver = _driver("127.64.2.1", source)
    try:
        assert isinstance(driver, MinerDriver)
        info = await driver.identify()
        assert info.make is Make.GPU
        assert info.model == "HGX H200 8-GPU"
        assert driver.spec is not None
        assert driver.controls == {Control.GPU_POWER_LIMIT}
        assert info.firmware == "550.90.07"
        telemetry = await driver.read()
        assert telemetry.mining_state is MiningState.HASHING
        assert telemetry.hashrate_hs is None
        # The node's draw: its GPUs at 95 % of a dense job, plus what its model row puts
        # outside the GPUs (10.2 kW input less 8 x 700 W), which NVML does not see.
        assert telemetry.power_w == pytest.approx(8 * 678 + 4600, rel=0.05)
        assert len(telemetry.chip_temps_c) == 8
        node = await driver.read_node()
        assert [g.index for g in node.gpus] == list(range(8))
        assert node.gpus[0].uuid.startswith("GPU-")
        assert node.gpus[0].mem_total_mib == 143771
        if source == "agent":
            assert telemetry.power_limit_w == 8 * 700
        else:  # dcgm-exporter's default counters carry no limit
            assert telemetry.power_limit_w is None
    finally:
        await driver.close()


@pytest.mark.parametrize("source", ["agent", "dcgm"])
async def test_limits_are_set_through_the_agent_and_confirmed(
    sim: GpuNodeFleet, source: str
) -> None:
    driver = _driver("127.64.2.2", source)
    try:
        outcome = await driver.apply(SetGpuPowerLimit(watts_per_gpu=450))
        assert outcome.applied
        assert all(g.limit_w == 450 for g in sim.node("127.64.2.2").gpus)
        outcome = await driver.apply(SetGpuPowerLimit(per_gpu=((0, 300), (7, 650))))
        assert outcome.applied
        assert [g.limit_w for g in sim.node("127.64.2.2").gpus][::7] == [300, 650]
        assert (await driver.apply(RestoreGpuPowerLimits())).applied
        assert {g.limit_w for g in sim.node("127.64.2.2").gpus} == {700}
    finally:
        await driver.close()


async def test_xid_and_lost_gpu_become_errors(sim: GpuNodeFleet) -> None:
    node = sim.node("127.64.2.1")
    node.raise_xid(4, 48)
    node.lose_gpu(6)
    for source in ("agent", "dcgm"):
        driver = _driver("127.64.2.1", source)
        try:
            telemetry = await driver.read()
            codes = {e.code for e in telemetry.errors}
            assert "xid_48" in codes
            if source == "agent":
                assert telemetry.mining_state is MiningState.FAULT
                assert {"gpu_lost", "xid_79"} <= codes
        finally:
            await driver.close()


async def test_write_failures_are_typed(sim: GpuNodeFleet) -> None:
    driver = _driver("127.64.2.1")
    try:
        with pytest.raises(LimitOutOfRange) as err:
            await driver.apply(SetGpuPowerLimit(watts_per_gpu=100))
        assert (err.value.min_w, err.value.max_w) == (200, 700)
        with pytest.raises(UnsupportedError):
            await driver.apply(Sleep())
        sim.node("127.64.2.1").ignore_limits()
        with pytest.raises(WriteNotApplied):
            await driver.apply(SetGpuPowerLimit(watts_per_gpu=400))
    finally:
        await driver.close()
    for token, error in ((None, AuthError), ("wrong", AuthError)):
        driver = _driver("127.64.2.1", token=token)
        try:
            with pytest.raises(error):
                await driver.apply(SetGpuPowerLimit(watts_per_gpu=400))
        finally:
            await driver.close()


async def test_ignored_writes_are_write_not_applied(sim: GpuNodeFleet) -> None:
    """The agent answers 200 to every limit write and enforces none (``ignore_writes``)."""
    node = sim.node("127.64.2.2")
    node.faults.inject("ignore_writes")
    before = [g.limit_w for g in node.gpus]
    driver = _driver("127.64.2.2")
    try:
        await driver.identify()
        for command in (SetGpuPowerLimit(watts_per_gpu=450), SetGpuPowerLimit(per_gpu=((0, 300),))):
            start = time.monotonic()
            with pytest.raises(WriteNotApplied):
                await driver.apply(command)
            # The write and one read-back, each within its deadlines.
            assert time.monotonic() - start < 2 * (FAST.connect_timeout_s + FAST.read_timeout_s)
            assert [g.limit_w for g in node.gpus] == before
    finally:
        await driver.close()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("refuse", ConnectionFailed),
        ("stall", DeviceTimeout),
        ("malformed", ProtocolError),
        ("truncated", ProtocolError),
    ],
)
@pytest.mark.parametrize("source", ["agent", "dcgm"])
async def test_network_faults_are_typed(
    sim: GpuNodeFleet, fault: str, error: type[Exception], source: str
) -> None:
    if (fault, source) == ("malformed", "dcgm"):
        pytest.skip("`malformed` breaks JSON; the corrupted metrics text stays parseable")
    sim.node("127.64.2.2").faults.inject(fault)
    driver = _driver("127.64.2.2", source)
    try:
        with pytest.raises(error):
            await driver.read_node()
    finally:
        await driver.close()


async def test_against_the_real_agent_app() -> None:
    backend = SimulatedNvml("H100", host="agent-under-test", privileged=True)
    runner = web.AppRunner(make_app(GpuNode(backend), token="tok"))
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    driver = GpuNodeDriver(
        DeviceEndpoint("127.0.0.1", (("agent", port),)), token="tok", settings=FAST
    )
    try:
        info = await driver.identify()
        assert info.model == "HGX H100 8-GPU"
        assert info.hostname == "agent-under-test"
        assert (await driver.apply(SetGpuPowerLimit(watts_per_gpu=500))).applied
        assert (await driver.read()).power_limit_w == 8 * 500
        with pytest.raises(LimitOutOfRange):
            await driver.apply(SetGpuPowerLimit(per_gpu=((3, 900),)))
        backend.privileged = False
        with pytest.raises(NoGpuPrivilege):
            await driver.apply(RestoreGpuPowerLimits())
    finally:
        await driver.close()
        await runner.cleanup()

"""The GPU node simulator: its power model, its agent API and dcgm /metrics on real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace

import aiohttp
import pytest

from simulators.clock import SimClock
from simulators.device import SimDevice
from simulators.gpu import GpuNodeDevice, lookup_gpu_model
from simulators.gpu.serve import GpuNodeFleet
from simulators.gpu.site_entry import build_gpu_nodes, valid_gpu_model
from simulators.gpu.state import throughput_fraction

AUTH = {"Authorization": "Bearer hashpivot-sim"}
TIMEOUT = aiohttp.ClientTimeout(total=5)


def test_a_cap_costs_throughput_sub_linearly() -> None:
    assert throughput_fraction(700, 670) == 1.0
    assert 0.75 <= throughput_fraction(0.6 * 700, 700) <= 0.85
    assert throughput_fraction(300, 670) > 300 / 670


def test_power_settles_on_the_simulated_clock() -> None:
    clock = SimClock(1e-6)  # frozen in practice; only advance() moves it
    node = GpuNodeDevice("127.64.9.1", lookup_gpu_model("H200"), clock)
    gpu = node.gpus[0]
    loaded = gpu.power_w(clock.now())
    assert 600 < loaded <= 691  # 95 % of a dense job, under its 700 W limit
    node.set_limits({0: 400})
    assert gpu.power_w(clock.now()) == pytest.approx(loaded, abs=1)  # not instant
    clock.advance(0.25)
    assert 400 < gpu.power_w(clock.now()) < loaded
    clock.advance(1.0)
    held = 400 * gpu.model.power.cap_fill  # the firmware holds a capped GPU just under
    assert gpu.power_w(clock.now()) == pytest.approx(held, abs=0.5)
    assert 390 < held < 400
    before = gpu.energy_at(clock.now())
    clock.advance(10)
    assert gpu.energy_at(clock.now()) - before == pytest.approx(10 * held, rel=0.001)
    assert node.throughput() < 1.0


def test_idle_and_loaded_node_power_match_the_reference() -> None:
    clock = SimClock(1e-6)
    node = GpuNodeDevice("127.64.9.2", lookup_gpu_model("H100"), clock)
    assert 6500 <= node.snapshot().power_w <= 8500  # docs/protocols.md §6: 6.5-8.5 kW loaded
    node.stop_job()
    clock.advance(5)
    assert 1500 <= node.snapshot().power_w <= 3000  # 1.5-3 kW idle
    assert node.snapshot().phase == "idle"


def test_site_entry_builds_sim_devices() -> None:
    entry = SimpleNamespace(
        model="HGX H200 8-GPU",
        gpus=8,
        load=0.5,
        token="t",
        settle_s=1.0,
        dcgm_power_limit=False,
        faults=("slow=0.5",),
        addresses=lambda: ["127.64.9.3", "127.64.9.4"],
    )
    devices: list[SimDevice] = build_gpu_nodes(entry, SimClock(), 0)
    assert [(d.make, d.model, d.address) for d in devices] == [
        ("gpu", "H200", "127.64.9.3"),
        ("gpu", "H200", "127.64.9.4"),
    ]
    assert devices[0].ports() == (9862, 9400)
    assert valid_gpu_model("h100") == "H100"
    with pytest.raises(ValueError, match="known: H100, H200"):
        valid_gpu_model("A100")


@pytest.fixture
async def sim() -> AsyncIterator[GpuNodeFleet]:
    async with GpuNodeFleet(2, start="127.64.1.1") as fleet:
        yield fleet


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        yield session


async def test_agent_api_reads_and_writes(sim: GpuNodeFleet, http: aiohttp.ClientSession) -> None:
    base = "http://127.64.1.2:9862"
    async with http.get(f"{base}/v1/node") as resp:
        node = await resp.json()
    assert node["gpu_count"] == 8
    assert node["gpus"][0]["name"] == "NVIDIA H200"
    async with http.put(f"{base}/v1/power-limit", json={"per_gpu_w": 450}, headers=AUTH) as resp:
        assert resp.status == 200
        assert set((await resp.json())["enforced"].values()) == {450}
    async with http.put(f"{base}/v1/power-limit", json={"gpus": {"1": 100}}, headers=AUTH) as resp:
        assert resp.status == 422
        body = await resp.json()
        assert (body["min_w"], body["max_w"]) == (200, 700)
    async with http.put(f"{base}/v1/power-limit", json={"per_gpu_w": 450}) as resp:
        assert resp.status == 401
    async with http.put(f"{base}/v1/power-limit", json={"per_gpu_w": "x"}, headers=AUTH) as resp:
        assert resp.status == 422
    async with http.put(
        f"{base}/v1/power-limit", data=b"{" + b" " * 20_000 + b"}", headers=AUTH
    ) as resp:
        assert resp.status == 413
    async with http.delete(f"{base}/v1/power-limit", headers=AUTH) as resp:
        assert set((await resp.json())["enforced"].values()) == {700}
    assert sim.node("127.64.1.1").gpus[0].limit_w == 700  # the other node was never touched


async def test_dcgm_metrics(sim: GpuNodeFleet, http: aiohttp.ClientSession) -> None:
    sim.nodes[0].raise_xid(3, 48)
    async with http.get("http://127.64.1.1:9400/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    for name in (
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "DCGM_FI_DEV_XID_ERRORS",
    ):
        assert f"# TYPE {name} " in text
        assert sum(line.startswith(name + "{") for line in text.splitlines()) == 8
    assert 'DCGM_FI_DEV_XID_ERRORS{gpu="3",' in text
    line = next(x for x in text.splitlines() if x.startswith('DCGM_FI_DEV_XID_ERRORS{gpu="3"'))
    assert line.endswith(" 48")
    assert 'modelName="NVIDIA H200"' in line
    assert 'device="nvidia3"' in line
    assert "DCGM_FI_DEV_ENFORCED_POWER_LIMIT" not in text  # not a default counter


async def test_network_faults(sim: GpuNodeFleet, http: aiohttp.ClientSession) -> None:
    node = sim.nodes[0]
    node.faults.inject("refuse")
    with pytest.raises(aiohttp.ClientError):
        async with http.get("http://127.64.1.1:9862/v1/node") as resp:
            await resp.read()
    node.faults.clear()
    node.faults.inject("stall")
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(
            "http://127.64.1.1:9862/v1/node", timeout=aiohttp.ClientTimeout(total=0.3)
        ) as resp:
            await resp.read()
    node.faults.clear()
    node.ignore_limits()
    async with http.put(
        "http://127.64.1.1:9862/v1/power-limit", json={"per_gpu_w": 300}, headers=AUTH
    ) as resp:
        assert resp.status == 200
        assert set((await resp.json())["enforced"].values()) == {700}  # acked, not applied


async def test_lost_gpu_and_reboot(sim: GpuNodeFleet, http: aiohttp.ClientSession) -> None:
    node = sim.nodes[1]
    node.lose_gpu(2)
    async with http.get("http://127.64.1.2:9862/v1/health") as resp:
        assert resp.status == 503
        assert (await resp.json())["lost_gpus"] == [2]
    async with http.get("http://127.64.1.2:9400/metrics") as resp:
        assert 'gpu="2"' not in await resp.text()
    node.reboot()
    with pytest.raises(aiohttp.ClientError):
        async with http.get("http://127.64.1.2:9862/v1/node") as resp:
            await resp.read()
    sim.clock.advance(node.options.boot_s)
    async with http.get("http://127.64.1.2:9862/v1/health") as resp:
        assert resp.status == 200

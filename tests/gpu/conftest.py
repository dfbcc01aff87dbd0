"""Agent fixtures: the real aiohttp app over the simulated NVML backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from drivers.gpu_agent.nvml import GpuNode
from drivers.gpu_agent.nvml_sim import SimulatedNvml
from drivers.gpu_agent.server import make_app

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def sim_nvml() -> SimulatedNvml:
    return SimulatedNvml("H200", host="gpu-test")


@pytest.fixture
async def agent(sim_nvml: SimulatedNvml) -> AsyncIterator[TestClient[object, object]]:
    app = make_app(GpuNode(sim_nvml), token=TOKEN)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client

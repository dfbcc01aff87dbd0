"""Every recorded NVML dump in tests/fixtures/gpu, replayed through the agent's read path.

Files are named ``nvml_<model>_<driver>.json`` and written on a real node by
``hashpivot gpu-agent --dump-node FILE``. ``nvml_h200_580.159.04.json`` is a real H200
(checked against nvidia-smi in test_h200_recording.py); ``nvml_h200_handmade.json`` is NOT a
real recording (its ``real`` field says so) and stays as the 8-GPU shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from drivers.errors import UnsupportedError
from drivers.gpu_agent.nvml import GpuNode, reading_from_raw
from drivers.gpu_agent.recorded import RecordedNvml
from drivers.gpu_agent.server import make_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gpu"
DUMPS = sorted(FIXTURES.glob("nvml_*_*.json"))


def test_there_is_at_least_one_dump() -> None:
    assert DUMPS, f"no nvml_<model>_<driver>.json in {FIXTURES}"


@pytest.fixture(params=DUMPS, ids=[p.stem for p in DUMPS])
def dump(request: pytest.FixtureRequest) -> dict[str, Any]:
    path: Path = request.param
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def test_dump_converts_to_sane_readings(dump: dict[str, Any]) -> None:
    uuids = set()
    for raw in dump["gpus"]:
        gpu = reading_from_raw("dump", raw)
        uuids.add(gpu.uuid)
        assert gpu.uuid.startswith("GPU-")
        assert gpu.name.startswith("NVIDIA")
        lo, hi = gpu.power_limit_min_w, gpu.power_limit_max_w
        assert lo is not None
        assert hi is not None
        assert 0 < lo < hi <= 1500
        assert gpu.power_limit_w is not None
        assert lo <= gpu.power_limit_w <= hi
        assert gpu.power_w is not None
        assert 0 < gpu.power_w <= hi * 1.2
        if gpu.mem_used_mib is not None and gpu.mem_total_mib is not None:
            assert 0 <= gpu.mem_used_mib <= gpu.mem_total_mib
        if gpu.temp_c is not None:
            assert 10 <= gpu.temp_c <= 110
        assert set(raw.get("unsupported", [])) <= set(raw)
    assert len(uuids) == len(dump["gpus"])


async def test_agent_serves_a_dump(dump: dict[str, Any]) -> None:
    backend = RecordedNvml(dump)
    app = make_app(GpuNode(backend), token="t")
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        node = await (await client.get("/v1/node")).json()
        assert node["backend"] == "recorded"
        assert node["gpu_count"] == len(dump["gpus"])
        total_mw = sum(g["power_usage_mw"] for g in dump["gpus"])
        assert node["gpu_power_w"] == pytest.approx(total_mw / 1000, abs=0.01)
        resp = await client.put(
            "/v1/power-limit", json={"per_gpu_w": 500}, headers={"Authorization": "Bearer t"}
        )
        assert resp.status == 501  # a recording is read-only
    with pytest.raises(UnsupportedError):
        backend.set_power_limit_mw(0, 500_000)


def test_handmade_dump_says_it_is_not_real() -> None:
    handmade = json.loads((FIXTURES / "nvml_h200_handmade.json").read_text())
    assert handmade["real"] is False
    assert "NOT a real recording" in handmade["note"]

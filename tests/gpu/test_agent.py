"""The agent's API over the simulated NVML backend: reads, writes, and every bad request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from drivers.gpu_agent.api import openapi_document
from drivers.gpu_agent.nvml_sim import SimulatedNvml
from tests.gpu.conftest import AUTH

Client = TestClient[Any, Any]
ROOT = Path(__file__).resolve().parents[2]


async def test_node_reports_every_gpu_and_totals(agent: Client) -> None:
    resp = await agent.get("/v1/node")
    assert resp.status == 200
    body = await resp.json()
    assert body["gpu_count"] == 8
    assert body["backend"] == "simulated"
    gpu = body["gpus"][0]
    assert gpu["name"] == "NVIDIA H200"
    assert gpu["power_limit_min_w"] == 200
    assert gpu["power_limit_max_w"] == 700
    assert gpu["power_limit_w"] == 700
    assert gpu["power_limit_default_w"] == 700
    assert 600 < gpu["power_w"] < 700  # loaded at 90 %
    assert gpu["mem_total_mib"] == pytest.approx(143771, abs=1)
    assert body["gpu_power_w"] == pytest.approx(sum(g["power_w"] for g in body["gpus"]), abs=0.01)
    assert body["gpu_power_limit_w"] == 8 * 700


async def test_set_all_limits_returns_enforced_and_power_follows(
    agent: Client, sim_nvml: SimulatedNvml
) -> None:
    resp = await agent.put("/v1/power-limit", json={"per_gpu_w": 450}, headers=AUTH)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["applied"] == {str(i): 450.0 for i in range(8)}
    assert body["enforced"] == {str(i): 450.0 for i in range(8)}
    node = await (await agent.get("/v1/node")).json()
    assert all(g["power_limit_w"] == 450 for g in node["gpus"])


async def test_set_some_limits_then_restore_defaults(agent: Client) -> None:
    resp = await agent.put("/v1/power-limit", json={"gpus": {"0": 300, "3": 650}}, headers=AUTH)
    assert resp.status == 200
    body = await resp.json()
    assert body["applied"] == {"0": 300.0, "3": 650.0}
    assert body["enforced"]["0"] == 300
    assert body["enforced"]["3"] == 650
    assert body["enforced"]["1"] == 700
    resp = await agent.delete("/v1/power-limit", headers=AUTH)
    assert resp.status == 200
    assert set((await resp.json())["enforced"].values()) == {700.0}


async def test_out_of_range_is_422_with_the_allowed_range(agent: Client) -> None:
    resp = await agent.put("/v1/power-limit", json={"gpus": {"2": 150}}, headers=AUTH)
    assert resp.status == 422
    body = await resp.json()
    assert body["error"] == "out_of_range"
    assert (body["gpu"], body["min_w"], body["max_w"], body["requested_w"]) == (2, 200, 700, 150)
    assert "200-700 W" in body["message"]
    node = await (await agent.get("/v1/node")).json()
    assert node["gpus"][2]["power_limit_w"] == 700  # nothing written


async def test_one_bad_target_writes_nothing(agent: Client) -> None:
    resp = await agent.put("/v1/power-limit", json={"gpus": {"0": 400, "1": 900}}, headers=AUTH)
    assert resp.status == 422
    node = await (await agent.get("/v1/node")).json()
    assert node["gpus"][0]["power_limit_w"] == 700


async def test_unknown_gpu_is_422(agent: Client) -> None:
    resp = await agent.put("/v1/power-limit", json={"gpus": {"8": 400}}, headers=AUTH)
    assert resp.status == 422
    assert (await resp.json())["error"] == "unknown_gpu"


async def test_without_root_is_403(agent: Client, sim_nvml: SimulatedNvml) -> None:
    sim_nvml.privileged = False
    resp = await agent.put("/v1/power-limit", json={"per_gpu_w": 400}, headers=AUTH)
    assert resp.status == 403
    assert "root" in (await resp.json())["message"]


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "no_token"),
        ({"Authorization": "Bearer wrong"}, "bad_token"),
        ({"Authorization": "Basic czNjcmV0"}, "no_token"),
        ({"Authorization": "Bearer "}, "no_token"),
    ],
)
async def test_writes_need_the_token(agent: Client, headers: dict[str, str], code: str) -> None:
    for call in (agent.put, agent.delete):
        resp = await call("/v1/power-limit", json={"per_gpu_w": 400}, headers=headers)
        assert resp.status == 401
        assert (await resp.json())["error"] == code


@pytest.mark.parametrize(
    "body",
    [
        {"per_gpu_w": "450"},
        {"per_gpu_w": True},
        {"per_gpu_w": None},
        {"per_gpu_w": [450]},
        {"gpus": {"zero": 450}},
        {"gpus": {"0": "450"}},
        {"gpus": {}},
        {"gpus": [450]},
        {"per_gpu_w": 450, "gpus": {"0": 450}},
        {"per_gpu_w": 450, "extra": 1},
        {},
        [],
        "450",
        450,
    ],
)
async def test_wrong_types_are_422_with_a_reason(agent: Client, body: object) -> None:
    resp = await agent.put("/v1/power-limit", json=body, headers=AUTH)
    assert resp.status == 422, await resp.text()
    reply = await resp.json()
    assert reply["error"] == "invalid_body"
    assert reply["message"].startswith("invalid body:")


@pytest.mark.parametrize("data", [b"", b"{", b"not json", b"\xff\xfe", b'{"per_gpu_w": 4e999}'])
async def test_broken_json_is_4xx(agent: Client, data: bytes) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    resp = await agent.put("/v1/power-limit", data=data, headers=headers)
    assert 400 <= resp.status < 500
    assert "error" in await resp.json()


async def test_oversized_body_is_413(agent: Client) -> None:
    data = json.dumps({"per_gpu_w": 450, "pad": "x" * 100_000})
    headers = {**AUTH, "Content-Type": "application/json"}
    resp = await agent.put("/v1/power-limit", data=data, headers=headers)
    assert resp.status == 413
    assert "16384 bytes" in (await resp.json())["message"]


async def test_wrong_media_type_is_415(agent: Client) -> None:
    resp = await agent.put("/v1/power-limit", data="per_gpu_w=450", headers=AUTH)
    assert resp.status == 415


async def test_unknown_paths_and_methods_are_json_4xx(agent: Client) -> None:
    resp = await agent.get("/v1/nope")
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"
    resp = await agent.post("/v1/power-limit", json={}, headers=AUTH)
    assert resp.status == 405
    assert "error" in await resp.json()


async def test_health_and_xids(agent: Client, sim_nvml: SimulatedNvml) -> None:
    resp = await agent.get("/v1/health")
    body = await resp.json()
    assert resp.status == 200
    assert body["status"] == "ok"
    assert body["gpu_count"] == 8
    sim_nvml.raise_xid(5, 79)
    for _ in range(30):  # the watcher polls the simulated backend once a second
        node = await (await agent.get("/v1/node")).json()
        if node["gpus"][5]["xid_last"] == 79:
            break
        await __import__("asyncio").sleep(0.1)
    assert node["gpus"][5]["xid_last"] == 79


async def test_a_lost_gpu_makes_health_degraded_not_500(
    agent: Client, sim_nvml: SimulatedNvml
) -> None:
    sim_nvml.lose_gpu(1)
    resp = await agent.get("/v1/health")
    body = await resp.json()
    assert resp.status == 503
    assert body["status"] == "degraded"
    assert body["lost_gpus"] == [1]
    resp = await agent.get("/v1/node")
    assert resp.status == 200
    gpus = (await resp.json())["gpus"]
    assert gpus[1]["lost"] is True
    assert gpus[1]["power_w"] is None
    assert all(g["power_w"] > 0 for g in gpus if g["index"] != 1)
    resp = await agent.put("/v1/power-limit", json={"gpus": {"1": 400}}, headers=AUTH)
    assert resp.status == 503
    assert (await resp.json())["error"] == "gpu_lost"


async def test_openapi_is_served_and_committed(agent: Client) -> None:
    served = await (await agent.get("/openapi.json")).json()
    assert served == openapi_document()
    committed = json.loads((ROOT / "deploy" / "gpu-agent-openapi.json").read_text())
    assert committed == served, "regenerate deploy/gpu-agent-openapi.json"
    assert set(served["paths"]) == {"/v1/node", "/v1/health", "/v1/power-limit"}

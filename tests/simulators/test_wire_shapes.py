"""Simulated Whatsminer (API v2, v3) and Auradine replies have the shape of the real
captures in tests/fixtures/captures: the same keys, JSON types, nesting and envelope.
The values are the simulator's own."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from simulators import Fleet
from tests.simulators.conftest import (
    assert_same_shape,
    http_raw,
    rpc_json,
    rpc_raw,
    serve,
    v3_exchange,
)

CAPTURES = Path(__file__).parents[1] / "fixtures" / "captures"
V2, V3, V3_ERRORS, AURADINE = "127.0.80.1", "127.0.80.2", "127.0.80.3", "127.0.80.4"
V2_ERRORS = "127.0.80.5"


def capture(name: str) -> Any:
    return json.loads((CAPTURES / name).read_text())


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    async with serve(
        "shapes",
        {"make": "whatsminer", "model": "M50S", "start": V2},
        {"make": "whatsminer", "model": "M60S", "api": "v3", "start": V3},
        {"make": "whatsminer", "model": "M60S", "api": "v3", "start": V3_ERRORS},
        {"make": "auradine", "model": "AT1500", "start": AURADINE},
        {"make": "whatsminer", "model": "M50S", "start": V2_ERRORS},
    ) as running:
        # Error codes as in the captures: their keys are the codes themselves.
        running.device(V2_ERRORS).error_codes[:] = [  # type: ignore[attr-defined]
            (218, "2024-06-15 10:30:00"),
            (110, "2024-06-15 09:15:00"),
        ]
        running.device(V3_ERRORS).error_codes[:] = [  # type: ignore[attr-defined]
            (code, "2026-05-23 09:19:10") for code in (264, 265, 266, 267, 270)
        ]
        yield running


async def v2_plain(host: str, command: str) -> dict[str, Any]:
    """Whatsminer replies carry no trailing NUL; parse them as they come."""
    raw = await rpc_raw(host, json.dumps({"cmd": command}).encode())
    decoded: dict[str, Any] = json.loads(raw)
    return decoded


@pytest.mark.parametrize(
    "name",
    [
        "summary",
        "devs",
        "pools",
        "get_version",
        "get_psu",
        "status",
        "get_miner_info",
        "get_error_code",
    ],
)
async def test_whatsminer_v2(fleet: Fleet, name: str) -> None:
    assert_same_shape(capture(f"whatsminer/v2/{name}.json"), await v2_plain(V2, name))


async def test_whatsminer_v2_error_codes(fleet: Fleet) -> None:
    ours = await v2_plain(V2_ERRORS, "get_error_code")
    assert_same_shape(capture("whatsminer/v2/get_error_code_with_errors.json"), ours)


async def test_whatsminer_v2_command_key_also_accepted(fleet: Fleet) -> None:
    ours = json.loads(await rpc_raw(V2, b'{"command":"edevs"}'))
    assert_same_shape(capture("whatsminer/v2/devs.json"), ours)


@pytest.mark.parametrize(
    ("name", "request_"),
    [
        ("get_device_info", {"cmd": "get.device.info"}),
        ("get_miner_status_summary", {"cmd": "get.miner.status", "param": "summary"}),
        ("get_miner_status_edevs", {"cmd": "get.miner.status", "param": "edevs"}),
        ("get_miner_status_pools", {"cmd": "get.miner.status", "param": "pools"}),
    ],
)
async def test_whatsminer_v3(fleet: Fleet, name: str, request_: dict[str, Any]) -> None:
    (ours,) = await v3_exchange(V3, request_)
    assert_same_shape(capture(f"whatsminer/v3/{name}.json"), ours)


async def test_whatsminer_v3_error_codes(fleet: Fleet) -> None:
    (ours,) = await v3_exchange(V3_ERRORS, {"cmd": "get.device.info"})
    assert_same_shape(capture("whatsminer/v3/get_device_info_with_errors.json"), ours)


@pytest.mark.parametrize("name", ["summary", "devs", "version", "asccount", "pools"])
async def test_auradine_rpc(fleet: Fleet, name: str) -> None:
    assert_same_shape(capture(f"auradine/v1/{name}.json"), await rpc_json(AURADINE, name))


async def rest_get(path: str) -> Any:
    login = json.dumps({"command": "token", "user": "admin", "password": "admin"}).encode()
    status, _h, body = await http_raw(
        AURADINE,
        b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(login)}\r\n\r\n".encode()
        + login,
        port=8080,
    )
    assert status == 200
    token = json.loads(body)["Token"][0]["Token"]
    status, _h, body = await http_raw(
        AURADINE, f"GET /{path} HTTP/1.1\r\nHost: x\r\nToken: {token}\r\n\r\n".encode(), port=8080
    )
    assert status == 200, body
    return json.loads(body)


@pytest.mark.parametrize(
    "name",
    [
        "mode",
        "psu",
        "fan",
        "temperature",
        "voltage",
        "frequency",
        "led",
        "ipreport",
        "pools",
        "summary",
        "devs",
        "version",
        "asccount",
    ],
)
async def test_auradine_rest(fleet: Fleet, name: str) -> None:
    assert_same_shape(capture(f"auradine/v1/{name}.json"), await rest_get(name))

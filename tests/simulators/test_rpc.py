"""CGMiner RPC on 4028: framing, envelopes, shapes of the captured replies, error codes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from simulators import Fleet
from tests.simulators.conftest import rpc_json, rpc_raw, serve

CAPTURES = Path(__file__).parents[1] / "fixtures" / "captures" / "antminer" / "v2020"
S21 = "127.77.1.1"
S19J = "127.77.1.2"


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    async with serve(
        "rpc",
        {"make": "antminer", "model": "S21", "start": S21},
        {"make": "antminer", "model": "S19j Pro", "start": S19J},
        speed=60.0,
    ) as running:
        yield running


def assert_same_shape(ours: Any, theirs: Any, path: str = "$") -> None:
    """Same keys, types and nesting as a captured reply; the values are the simulator's own."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{path}: expected an object"
        assert set(ours) == set(theirs), f"{path}: keys differ: {set(ours) ^ set(theirs)}"
        for key, value in theirs.items():
            assert_same_shape(ours[key], value, f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), f"{path}: expected a list"
        if len(ours) == len(theirs):  # positional lists, like STATS (header, data)
            for index, (mine, captured) in enumerate(zip(ours, theirs, strict=True)):
                assert_same_shape(mine, captured, f"{path}[{index}]")
        elif theirs:
            for item in ours:
                assert_same_shape(item, theirs[0], f"{path}[]")
    else:
        assert type(ours) is type(theirs), f"{path}: {type(ours).__name__} != {type(theirs)}"


@pytest.mark.parametrize("command", ["version", "summary", "stats", "pools", "devs"])
async def test_replies_have_the_captured_shapes(fleet: Fleet, command: str) -> None:
    captured = json.loads((CAPTURES / f"{command}.json").read_text())
    reply = await rpc_json(S21, command)
    assert_same_shape(reply, captured)
    assert reply["STATUS"][0]["STATUS"] == "S"
    assert reply["STATUS"][0]["Code"] == captured["STATUS"][0]["Code"]
    assert reply["STATUS"][0]["Description"] == "cgminer 1.0.0"


async def test_version_names_the_model(fleet: Fleet) -> None:
    assert (await rpc_json(S21, "version"))["VERSION"][0]["Type"] == "Antminer S21"
    assert (await rpc_json(S19J, "version"))["VERSION"][0]["Type"] == "Antminer S19j Pro"


async def test_stats_describe_three_boards_in_gh(fleet: Fleet) -> None:
    data = (await rpc_json(S21, "stats"))["STATS"][1]
    assert data["rate_unit"] == "GH"
    assert data["total_rateideal"] == pytest.approx(200_000, rel=0.01)
    assert [data[f"chain_acn{i}"] for i in range(1, 5)] == [108, 108, 108, 0]
    rates = [float(data[f"chain_rate{i}"]) for i in range(1, 4)]
    assert sum(rates) == pytest.approx(200_000, rel=0.06)
    assert data["chain_rate4"] == ""
    assert data["temp_chip4"] == "0-0-0-0"
    assert all(data[f"fan{i}"] > 0 for i in range(1, 5))
    assert data["Elapsed"] > 0


async def test_reply_ends_with_one_nul_and_the_server_closes(fleet: Fleet) -> None:
    raw = await rpc_raw(S21, b'{"command":"summary"}')  # read() returns only at EOF
    assert raw.endswith(b"}\x00")
    assert raw.count(b"\x00") == 1


async def test_request_split_across_writes_is_reassembled(fleet: Fleet) -> None:
    reader, writer = await asyncio.open_connection(S21, 4028)
    writer.write(b'{"comm')
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.write(b'and": "version"}')
    raw = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    assert json.loads(raw[:-1])["VERSION"][0]["Type"] == "Antminer S21"


async def test_trailing_newline_is_tolerated(fleet: Fleet) -> None:
    raw = await rpc_raw(S21, b'{"command":"summary"}\n')
    assert json.loads(raw[:-1])["STATUS"][0]["Code"] == 11


async def test_multicommand_as_pyasic_sends_it(fleet: Fleet) -> None:
    reply = await rpc_json(S21, "version+pools+summary+stats")
    assert set(reply) == {"version", "pools", "summary", "stats", "id"}
    assert reply["version"][0]["VERSION"][0]["Type"] == "Antminer S21"
    assert reply["stats"][0]["STATS"][1]["rate_unit"] == "GH"
    assert len(reply["pools"][0]["POOLS"]) == 3
    assert reply["summary"][0]["STATUS"][0]["Code"] == 11


async def test_multicommand_member_that_is_denied_gets_its_own_error(fleet: Fleet) -> None:
    reply = await rpc_json(S21, "summary+devdetails")
    assert reply["summary"][0]["STATUS"][0]["STATUS"] == "S"
    denied = reply["devdetails"][0]["STATUS"][0]
    assert (denied["Code"], denied["Msg"]) == (45, "Access denied to 'devdetails' command")


@pytest.mark.parametrize("command", ["devdetails", "estats", "ascset", "restart", "addpool"])
async def test_privileged_and_unlisted_commands_are_denied(fleet: Fleet, command: str) -> None:
    reply = await rpc_json(S21, command, parameter="0")
    status = reply["STATUS"][0]
    assert (status["STATUS"], status["Code"]) == ("E", 45)
    assert status["Msg"] == f"Access denied to '{command}' command"
    assert set(reply) == {"STATUS", "id"}


async def test_unknown_command_is_invalid(fleet: Fleet) -> None:
    status = (await rpc_json(S21, "frobnicate"))["STATUS"][0]
    assert (status["STATUS"], status["Code"], status["Msg"]) == ("E", 14, "Invalid command")


async def test_invalid_json_is_code_23(fleet: Fleet) -> None:
    raw = await rpc_raw(S21, b'{"command": summary}')
    assert json.loads(raw[:-1])["STATUS"][0]["Code"] == 23


async def test_missing_command_is_code_24(fleet: Fleet) -> None:
    raw = await rpc_raw(S21, b'{"parameter": "0"}')
    assert json.loads(raw[:-1])["STATUS"][0]["Code"] == 24

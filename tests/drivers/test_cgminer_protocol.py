"""CGMiner envelopes, JSON repair and multi-command fallback, without sockets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drivers.cgminer import CgminerRpc, check_envelope, load_json
from drivers.errors import CommandDenied, DeviceStatusError, ProtocolError, UnsupportedError
from tests.drivers.conftest import capture

H = "10.0.0.2"


def _err(code: int, msg: str) -> dict[str, Any]:
    return {
        "STATUS": [
            {"STATUS": "E", "When": 1, "Code": code, "Msg": msg, "Description": "cgminer 1.0.0"}
        ],
        "id": 1,
    }


class ScriptedTransport:
    """Answers each request from a function of the decoded request; records what it saw."""

    host = H

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []

    async def exchange(self, request: bytes) -> bytes:
        message = json.loads(request)
        self.requests.append(message)
        return json.dumps(self.answer(message["command"])).encode() + b"\x00"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":1}',
        b'{"a":1}\x00',
        b'{"a":1}\n',
        b'{"a":1}\x00\n',
        b'{"a":1,}',
        b'{"a":[1,2,],}\x00',
        b'{"a":"line\nbreak"}',
    ],
)
def test_load_json_repairs_firmware_habits(raw: bytes) -> None:
    assert load_json(H, raw)["a"] in (1, [1, 2], "line\nbreak")


def test_load_json_missing_comma_between_objects() -> None:
    assert load_json(H, b'{"L":[{"a":1}{"b":2}]}') == {"L": [{"a": 1}, {"b": 2}]}


@pytest.mark.parametrize("raw", [b"", b"\x00", b"<html>", b'{"a":', b"\xff\xfe{", b"[" * 100000])
def test_load_json_rejects_garbage_with_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        load_json(H, raw)


def test_envelope_success_and_info() -> None:
    assert check_envelope(H, "summary", capture("summary.json"))["SUMMARY"]
    info = {"STATUS": [{"STATUS": "I", "Code": 46, "Msg": "Privileged access OK"}]}
    assert check_envelope(H, "privileged", info) is info


def test_envelope_access_denied_is_unsupported() -> None:
    with pytest.raises(CommandDenied) as caught:
        check_envelope(H, "estats", _err(45, "Access denied to 'estats' command"))
    assert isinstance(caught.value, UnsupportedError)
    assert caught.value.device_code == 45
    assert "Access denied" in caught.value.device_msg
    assert caught.value.host == H


@pytest.mark.parametrize("flag", ["E", "W", "F"])
def test_envelope_error_flags_are_typed(flag: str) -> None:
    reply = _err(14, "Invalid command")
    reply["STATUS"][0]["STATUS"] = flag
    with pytest.raises(DeviceStatusError) as caught:
        check_envelope(H, "bogus", reply)
    assert caught.value.device_code == 14
    assert caught.value.device_msg == "Invalid command"


def test_envelope_flat_whatsminer_shape() -> None:
    ok = {"STATUS": "S", "When": 1, "Code": 131, "Msg": {"fw_ver": "x"}, "Description": ""}
    assert check_envelope(H, "get_version", ok) is ok
    with pytest.raises(DeviceStatusError):
        check_envelope(H, "get_version", {"STATUS": "E", "Code": 132, "Msg": "error"})


@pytest.mark.parametrize(
    "reply", [[], "x", {}, {"STATUS": []}, {"STATUS": [1]}, {"STATUS": [{"STATUS": 5}]}]
)
def test_envelope_wrong_shape(reply: Any) -> None:
    with pytest.raises(ProtocolError):
        check_envelope(H, "summary", reply)


async def test_multi_command_joined() -> None:
    def answer(command: str) -> Any:
        assert command == "stats+summary"
        return {"stats": [capture("stats.json")], "summary": [capture("summary.json")], "id": 1}

    transport = ScriptedTransport(answer)
    rpc = CgminerRpc(transport)  # type: ignore[arg-type]
    replies = await rpc.commands("stats", "summary")
    assert replies["stats"]["STATS"][0]["Type"] == "Antminer S19 Pro"
    assert replies["summary"]["SUMMARY"][0]["Elapsed"] == 50474
    assert len(transport.requests) == 1


async def test_multi_command_falls_back_once_and_remembers() -> None:
    def answer(command: str) -> Any:
        if "+" in command:
            return _err(14, "Invalid command")
        return capture(f"{command}.json")

    transport = ScriptedTransport(answer)
    rpc = CgminerRpc(transport)  # type: ignore[arg-type]
    first = await rpc.commands("stats", "summary")
    assert set(first) == {"stats", "summary"}
    assert [r["command"] for r in transport.requests] == ["stats+summary", "stats", "summary"]
    transport.requests.clear()
    await rpc.commands("stats", "summary")
    assert sorted(r["command"] for r in transport.requests) == ["stats", "summary"]


async def test_multi_command_failing_member_raises_its_own_error() -> None:
    def answer(command: str) -> Any:
        return {"version": [capture("version.json")], "estats": [_err(45, "Access denied")]}

    rpc = CgminerRpc(ScriptedTransport(answer))  # type: ignore[arg-type]
    with pytest.raises(CommandDenied):
        await rpc.commands("version", "estats")


async def test_multi_command_missing_member_is_protocol_error() -> None:
    rpc = CgminerRpc(ScriptedTransport(lambda c: {"stats": [capture("stats.json")], "id": 1}))  # type: ignore[arg-type]
    with pytest.raises(ProtocolError):
        await rpc.commands("stats", "summary")


async def test_single_command_sends_parameter() -> None:
    transport = ScriptedTransport(lambda c: capture("devs.json"))
    rpc = CgminerRpc(transport)  # type: ignore[arg-type]
    await rpc.command("asc", "0")
    assert transport.requests == [{"command": "asc", "parameter": "0"}]

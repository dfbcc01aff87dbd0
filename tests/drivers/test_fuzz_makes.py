"""Fuzzing the Whatsminer and Auradine parsers, v3 framing and v2 decryption.

Whatever bytes or JSON a unit sends, only typed DriverErrors come out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.auradine import protocol as ap
from drivers.cgminer import RpcTransport, load_json
from drivers.errors import DriverError
from drivers.settings import DriverSettings
from drivers.whatsminer import parse_v2, parse_v3
from drivers.whatsminer.api_v2 import V2Api
from drivers.whatsminer.crypto import DecryptError, aes_decrypt, v2_token
from drivers.whatsminer.transport_v3 import FrameTransport, decode_frame
from tests.drivers.fuzzing import device_json, parsers
from tests.drivers.servers import HOST, answering, serve

H = "10.0.0.5"
CAPTURES = Path(__file__).parent.parent / "fixtures" / "captures"

KEYS = [
    "STATUS", "SUMMARY", "DEVS", "DEVDETAILS", "POOLS", "Msg", "Code", "code", "msg",
    "MHS 1m", "MHS 5s", "HS RT", "Factory GHS", "Power", "Power Limit", "Power Mode",
    "Fan Speed In", "Error Code Count", "Error Code 0", "Upfreq Complete", "Temperature",
    "mineroff", "btmineroff", "power_limit_set", "fw_ver", "api_ver", "error_code",
    "summary", "edevs", "pools", "miner", "working", "salt", "error-code", "hash-realtime",
    "power-realtime", "board-temperature", "up-freq-finish", "power-mode", "power-limit",
    "Mode", "Sleep", "PSU", "PowerIn", "PoutMax", "Fan", "Speed", "BoardTemp", "ChipTemp",
    "LED", "IPReport", "model", "Token", "ID", "Name", "reason",
]  # fmt: skip

json_values = device_json(
    KEYS, ["", "true", "false", "on", "off", "1", "3300.00W", "12 RPM", "x", "-1"]
)
PARSERS = [
    *parsers(parse_v2, parse_v3, ap),
    lambda h, r: parse_v3.check_reply(h, "x", r),
]


def _typed(parser: Callable[[str, Any], object], reply: Any) -> None:
    with contextlib.suppress(DriverError):
        parser(H, reply)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_parsers_raise_only_driver_errors(reply: Any) -> None:
    for parser in PARSERS:
        _typed(parser, reply)


def _captures() -> list[Any]:
    return [json.loads(p.read_text()) for p in sorted(CAPTURES.glob("*/*/*.json"))]


def _mutate(obj: Any, path: list[int], value: Any) -> Any:
    """Replace the node reached by following ``path`` (indices modulo each container)."""
    if not path or not isinstance(obj, dict | list) or not obj:
        return value
    if isinstance(obj, dict):
        key = sorted(obj)[path[0] % len(obj)]
        return {**obj, key: _mutate(obj[key], path[1:], value)}
    i = path[0] % len(obj)
    return [*obj[:i], _mutate(obj[i], path[1:], value), *obj[i + 1 :]]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 10_000),
    st.lists(st.integers(0, 50), min_size=1, max_size=5),
    json_values,
)
def test_mutated_captures_raise_only_driver_errors(which: int, path: list[int], value: Any) -> None:
    captures = _captures()
    reply = _mutate(captures[which % len(captures)], path, value)
    for parser in PARSERS:
        _typed(parser, reply)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_as_json(raw: bytes) -> None:
    with contextlib.suppress(DriverError):
        decode_frame(H, raw)
    with contextlib.suppress(DriverError):
        load_json(H, raw)


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=120)
    | st.binary(max_size=96).map(lambda b: __import__("base64").b64encode(b).decode())
)
def test_v2_decryption_of_garbage_is_a_decrypt_error(data: str) -> None:
    key = v2_token("admin", "salt1234", "news1234", "1").aes_key
    with contextlib.suppress(DecryptError):
        aes_decrypt(key, data)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=64), st.booleans())
def test_v3_framing_of_random_bytes(payload: bytes, prefixed: bool) -> None:
    """A server answering random bytes (or a random length prefix) gives only DriverErrors."""
    wire = struct.pack("<I", len(payload)) + payload if prefixed else payload

    async def run() -> None:
        async with serve(answering(wire)) as port:
            t = FrameTransport(
                HOST, port, DriverSettings(connect_timeout_s=0.3, read_timeout_s=0.3)
            )
            try:
                await t.request({"cmd": "get.device.info"})
            except DriverError:
                pass
            finally:
                await t.close()

    asyncio.run(run())


@settings(max_examples=40, deadline=None)
@given(json_values)
def test_v2_write_replies_of_any_shape(reply: Any) -> None:
    """get_token and encrypted-write replies of any shape end in DriverErrors."""
    body = json.dumps(reply).encode()

    async def run() -> None:
        async with serve(answering(body)) as port:
            api = V2Api(
                RpcTransport(host=HOST, port=port, connect_timeout_s=0.3, read_timeout_s=0.3),
                "admin",
            )
            with contextlib.suppress(DriverError):
                await api.write("power_on")

    asyncio.run(run())

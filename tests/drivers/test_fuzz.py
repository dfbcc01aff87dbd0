"""Fuzzing: whatever bytes or JSON a device sends, only typed DriverErrors come out."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.antminer import protocol as p
from drivers.cgminer import CgminerRpc, check_envelope, load_json
from drivers.errors import DriverError
from tests.drivers.conftest import capture, fixture
from tests.drivers.fuzzing import device_json, parsers
from tests.edits import paths_of

H = "10.0.0.3"

KEYS = [
    "STATUS",
    "STATS",
    "SUMMARY",
    "VERSION",
    "POOLS",
    "INFO",
    "Type",
    "type",
    "Code",
    "Msg",
    "rate_unit",
    "rate_5s",
    "GHS 5s",
    "Elapsed",
    "elapsed",
    "fan",
    "fan1",
    "fan5",
    "fan_num",
    "chain",
    "chain_acn1",
    "chain_rate1",
    "chain_acn6",
    "temp_pcb1",
    "temp_out_pcb_6",
    "temp_pcb",
    "temp_chip",
    "miner-mode",
    "pools",
    "url",
    "bitmain-work-mode",
    "bitmain-fan-ctrl",
    "status",
    "minertype",
    "serinum",
    "serial_no",
    "stats",
    "code",
    "summary",
    "asic_num",
    "index",
]
JSON = device_json(
    KEYS, ["S", "E", "I", "GH", "GH/s", "TH", "0-0-0-0", "61-44-63-64", "-5-40", "", "1", "true"]
)
PARSERS = [
    *parsers(p),
    lambda host, reply: check_envelope(host, "summary", reply),
]
SAMPLES: list[tuple[Callable[[str, Any], object], Any]] = [
    (p.parse_stats, capture("stats.json")),
    (p.parse_stats, fixture("antminer_s21_fr1.12_rpc_stats.json")),
    (p.parse_summary, capture("summary.json")),
    (p.parse_version, capture("version.json")),
    (p.parse_pools, capture("pools.json")),
    (p.parse_system_info, capture("system_info.json")),
    (p.parse_web_stats, fixture("antminer_s19jpro_49.0.1.3_stats.json")),
    (p.parse_web_summary, fixture("antminer_s19jpro_49.0.1.3_summary.json")),
    (p.parse_miner_conf, fixture("antminer_s19jpro_49.0.1.3_get_miner_conf.json")),
]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_driver_errors(call: Callable[[], object]) -> None:
    try:
        call()
    except DriverError as exc:
        error = exc
    else:
        return
    assert error.host == H
    assert isinstance(error.code, str)
    assert error.code


@FAST
@given(reply=JSON, which=st.integers(0, len(PARSERS) - 1))
def test_parsers_on_random_json(reply: Any, which: int) -> None:
    _only_driver_errors(lambda: PARSERS[which](H, reply))


@FAST
@given(data=st.data())
def test_parsers_on_mutated_real_replies(data: st.DataObject) -> None:
    parser, sample = data.draw(st.sampled_from(SAMPLES))
    reply = copy.deepcopy(sample)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths_of(reply)))
        node = reply
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = data.draw(JSON)
    _only_driver_errors(lambda: parser(H, reply))


@FAST
@given(raw=st.binary(max_size=300))
def test_framing_on_random_bytes(raw: bytes) -> None:
    _only_driver_errors(lambda: check_envelope(H, "summary", load_json(H, raw)))


@FAST
@given(cut=st.integers(0, 2000), tail=st.sampled_from([b"", b"\x00", b"\n", b"\x00\n"]))
def test_framing_on_truncated_real_replies(cut: int, tail: bytes) -> None:
    raw = json.dumps(capture("stats.json")).encode()[:cut] + tail
    _only_driver_errors(lambda: p.parse_stats(H, check_envelope(H, "stats", load_json(H, raw))))


class _Canned:
    host = H

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    async def exchange(self, request: bytes) -> bytes:
        return self.raw


@FAST
@given(raw=st.one_of(st.binary(max_size=200), JSON.map(lambda v: json.dumps(v).encode())))
def test_multi_command_on_random_replies(raw: bytes) -> None:
    rpc = CgminerRpc(_Canned(raw))  # type: ignore[arg-type]
    _only_driver_errors(lambda: asyncio.run(rpc.commands("stats", "summary")))


def test_fuzz_targets_cover_every_public_parser() -> None:
    names = {name for name in p.__all__ if name.startswith("parse_")}
    covered = {getattr(f, "__name__", "") for f in PARSERS}
    assert names <= covered

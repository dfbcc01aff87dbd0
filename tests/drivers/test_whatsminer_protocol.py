"""Whatsminer parsers over every captured reply (API 1.4, 2.0.5, 3) and our own fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drivers.cgminer import check_envelope
from drivers.errors import (
    AuthError,
    DeviceStatusError,
    ProtocolError,
    UnsupportedError,
    WritesDisabled,
)
from drivers.types import PowerMode
from drivers.whatsminer import parse_v2, parse_v3
from drivers.whatsminer.records import firmware_date, uses_api_v3

H = "10.0.0.7"
CAPTURES = Path(__file__).parent.parent / "fixtures" / "captures" / "whatsminer"
FIXTURES = Path(__file__).parent.parent / "fixtures"


def cap(api: str, name: str) -> Any:
    reply = json.loads((CAPTURES / api / name).read_text(encoding="utf-8"))
    if api != "v3":
        check_envelope(H, name, reply)
    return reply


def test_v1_summary_api_1_4() -> None:
    r = parse_v2.parse_summary(H, cap("v1", "summary.json"))
    assert r.hashrate_hs == pytest.approx(67439352.49e6)  # MHS 1m
    assert r.nameplate_hs == pytest.approx(68796e9)
    assert r.power_w == 3417
    assert r.power_limit_w == 3500
    assert r.power_mode is PowerMode.NORMAL
    assert r.fans_rpm == (6450, 6480)
    assert r.elapsed_s == 10154
    assert r.errors == ()


def test_v1_summary_error_codes() -> None:
    r = parse_v2.parse_summary(H, cap("v1", "summary_with_errors.json"))
    assert [e.code for e in r.errors] == ["110", "600"]


def test_v1_devs_boards_and_ramp() -> None:
    boards, done = parse_v2.parse_devs(H, cap("v1", "devs.json"))
    assert [b.index for b in boards] == [0, 1, 2]
    assert boards[0].hashrate_hs == pytest.approx(22103789.84e6)
    assert boards[0].chips == 105
    assert boards[0].board_temp_c == 70.0
    assert boards[0].chip_temp_c == 90.0
    assert boards[2].serial == "H5M14S69129A17K10002"
    assert done is True


def test_v1_status_btmineroff_and_quoted_firmware() -> None:
    setting, fw = parse_v2.parse_status(H, cap("v1", "status.json"))
    assert setting.mining_off is False
    assert fw == "20220919.15.REL"
    assert uses_api_v3(fw) is False


def test_v1_version_psu_pools() -> None:
    v = parse_v2.parse_version(H, cap("v1", "get_version.json"))
    assert v.firmware == "20210322.22.REL"
    assert v.api_version == "whatsminer v1.4.0"
    assert parse_v2.parse_psu(H, cap("v1", "get_psu.json")) == ("P21-12-3600-E", None)
    pools = parse_v2.parse_pools(H, cap("v1", "pools.json"))
    assert pools[0] == ("stratum+tcp://btc.example.pool:3333", "asic-rs.test")
    assert len(pools) == 3


def test_v2_summary_without_1m_rate() -> None:
    r = parse_v2.parse_summary(H, cap("v2", "summary.json"))
    assert r.hashrate_hs == pytest.approx(124500000.0e6)  # "HS RT" in MH/s
    assert r.nameplate_hs == pytest.approx(126e12)
    assert r.power_w == 3200
    assert r.power_limit_w == 3300
    assert r.env_temp_c == 28.5
    assert r.fans_rpm == (5400, 5280)


def test_v2_devs_status_version_info_psu() -> None:
    boards, done = parse_v2.parse_devs(H, cap("v2", "devs.json"))
    assert [b.hashrate_hs for b in boards] == pytest.approx([41.5e12, 41.8e12, 41.7e12])
    assert done is None  # this capture has no Upfreq Complete
    setting, fw = parse_v2.parse_status(H, cap("v2", "status.json"))
    assert setting.mining_off is False
    assert setting.power_limit_w == 3600
    assert setting.power_mode is PowerMode.LOW
    assert fw == "20240624.18.REL"
    v = parse_v2.parse_version(H, cap("v2", "get_version.json"))
    assert (v.firmware, v.api_version) == ("20230803.11.REL", "2.0.5")
    info = parse_v2.parse_miner_info(H, cap("v2", "get_miner_info.json"))
    assert (info.mac, info.hostname) == ("D4:01:02:03:04:05", "WhatsMiner")
    assert parse_v2.parse_psu(H, cap("v2", "get_psu.json")) == ("P222B", 6000)


def test_v2_error_codes_both_variants() -> None:
    assert parse_v2.parse_error_code(H, cap("v2", "get_error_code.json")) == ()
    errors = parse_v2.parse_error_code(H, cap("v2", "get_error_code_with_errors.json"))
    assert [(e.code, e.message) for e in errors] == [
        ("218", "2024-06-15 10:30:00"),
        ("110", "2024-06-15 09:15:00"),
    ]


def test_v3_summary_edevs_pools() -> None:
    r = parse_v3.parse_summary(H, cap("v3", "get_miner_status_summary.json"))
    assert r.hashrate_hs == pytest.approx(171.259e12)
    assert r.nameplate_hs == pytest.approx(181.051e12)
    assert r.power_w == 3156.0
    assert r.power_limit_w == 3600
    assert r.fans_rpm == (5400, 5280)
    assert r.board_temps_c == (41.1, 40.1, 41.5)
    assert r.env_temp_c == 28.5
    assert r.ramp_done is True
    assert r.elapsed_s == 50000
    boards = parse_v3.parse_edevs(H, cap("v3", "get_miner_status_edevs.json"))
    assert [b.hashrate_hs for b in boards] == pytest.approx([57.2e12, 57.0e12, 57.1e12])
    assert boards[1].chip_temp_c == 82.0
    assert boards[0].chips == 75
    pools = parse_v3.parse_pools(H, cap("v3", "get_miner_status_pools.json"))
    assert pools[2] == ("stratum+tcp://btc3.example.pool:3333", "asic-rs.test")


def test_v3_device_info_and_errors() -> None:
    ident, setting, salt, errors = parse_v3.parse_device_info(H, cap("v3", "get_device_info.json"))
    assert ident.model == "M60S_VK40"
    assert ident.firmware == "20251209.16.Rel2"
    assert uses_api_v3(ident.firmware) is True
    assert ident.serial == "BTM3CS40HD24083100000000000000000"
    assert ident.mac == "CE:02:01:00:8C:36"
    assert setting.mining_off is False
    assert salt == "uhCiDyVj"
    assert errors == ()
    _, _, _, errors = parse_v3.parse_device_info(H, cap("v3", "get_device_info_with_errors.json"))
    assert [e.code for e in errors] == ["264", "265", "266", "267", "270"]
    assert errors[0].message.startswith("Power xfer error")


def test_v3_stopped_error_code_is_a_string() -> None:
    reply = {
        "code": 0,
        "msg": {"miner": {"working": "false"}, "error-code": "btminer process is down err"},
    }
    _, setting, _, errors = parse_v3.parse_device_info(H, reply)
    assert setting.mining_off is True
    assert errors[0].message == "btminer process is down err"


@pytest.mark.parametrize(
    ("msg", "error"),
    [
        ("no permission", WritesDisabled),
        ("invalid token", AuthError),
        ("invalid cmd", UnsupportedError),
        ("something else", DeviceStatusError),
    ],
)
def test_v3_refusals_are_typed(msg: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_v3.check_reply(H, "set.miner.service", {"code": -1, "msg": msg})


def test_firmware_dates() -> None:
    assert firmware_date("20241100.1.REL") == 20241100
    assert uses_api_v3("20241031.1.REL") is False
    assert uses_api_v3("20241101.1.REL") is True
    assert uses_api_v3("unknown") is None


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("whatsminer_*.json")), ids=lambda p: p.name)
def test_own_fixtures_parse(path: Path) -> None:
    """``whatsminer_<model>_<firmware>_<endpoint>.json``: the endpoint names the parser."""
    reply = json.loads(path.read_text(encoding="utf-8"))
    endpoint = path.stem.split("_", 3)[3]
    parsers = {
        "summary": parse_v2.parse_summary,
        "devs": parse_v2.parse_devs,
        "edevs": parse_v2.parse_devs,
        "status": parse_v2.parse_status,
        "devdetails": parse_v2.parse_devdetails,
        "get_version": parse_v2.parse_version,
        "v3_device_info": parse_v3.parse_device_info,
        "v3_summary": parse_v3.parse_summary,
        "v3_edevs": parse_v3.parse_edevs,
        "v3_setting": parse_v3.parse_miner_setting,
    }
    assert parsers[endpoint](H, reply) is not None


def test_wrong_shapes_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError):
        parse_v2.parse_status(H, {"STATUS": "S", "Msg": "API command OK"})
    with pytest.raises(ProtocolError):
        parse_v3.parse_summary(H, {"code": 0, "msg": {"summary": []}})


def test_own_fixture_values() -> None:
    reply = json.loads((FIXTURES / "whatsminer_m50s_20230803.11_edevs.json").read_text())
    boards, done = parse_v2.parse_devs(H, reply)
    assert done is False  # one board still ramping: the unit is STARTING
    assert boards[0].hashrate_hs == pytest.approx(20.5e12)
    status = json.loads((FIXTURES / "whatsminer_m50s_20230803.11_status.json").read_text())
    setting, _ = parse_v2.parse_status(H, status)
    assert setting.mining_off is True
    assert setting.power_limit_w == 3276
    details = json.loads((FIXTURES / "whatsminer_m60s_20230803.11_devdetails.json").read_text())
    assert parse_v2.parse_devdetails(H, details) == "M60S.VK30"
    v3 = json.loads((FIXTURES / "whatsminer_m60s_20250110.16_v3_setting.json").read_text())
    setting = parse_v3.parse_miner_setting(H, v3)
    assert (setting.power_limit_w, setting.power_mode) == (3000, PowerMode.LOW)

"""Every Antminer capture and fixture parses to the values it holds."""

from __future__ import annotations

import pytest

from drivers.antminer import protocol as p
from drivers.antminer import records as r
from drivers.cgminer import check_envelope
from drivers.errors import DeviceStatusError, ProtocolError, WriteRejected
from tests.drivers.conftest import capture, fixture

H = "10.0.0.1"


def test_rpc_stats_capture_s19_pro() -> None:
    stats = p.parse_stats(H, capture("stats.json"))
    assert stats.model == "S19 Pro"
    assert stats.hashrate_5s_hs == pytest.approx(1.1056689e14)
    assert stats.hashrate_avg_hs == pytest.approx(1.1183463e14)
    assert stats.nameplate_hs == pytest.approx(1.1e14)
    assert stats.elapsed_s == 50474
    assert stats.fans_rpm == (6000, 5880, 5040, 5040)
    assert [b.index for b in stats.boards] == [0, 1, 2]
    assert [b.hashrate_hs for b in stats.boards] == pytest.approx(
        [3.760330e13, 3.553622e13, 3.742738e13]
    )
    assert [b.chips for b in stats.boards] == [114, 114, 114]
    assert [b.board_temp_c for b in stats.boards] == [73, 66, 64]
    assert [b.chip_temp_c for b in stats.boards] == [78, 71, 69]
    assert stats.work_mode is None


def test_rpc_summary_capture() -> None:
    summary = p.parse_summary(H, capture("summary.json"))
    assert summary.elapsed_s == 50474
    assert summary.hashrate_5s_hs == pytest.approx(1.1056689e14)
    assert summary.hashrate_avg_hs == pytest.approx(1.1183485e14)
    assert summary.hashrate_30m_hs == pytest.approx(1.1187826e14)


def test_rpc_version_capture() -> None:
    version = p.parse_version(H, capture("version.json"))
    assert version == r.VersionInfo(
        model="S19 Pro",
        api="3.1",
        miner_version="49.0.1.3",
        compile_time="Tue Dec  6 16:12:30 CST 2022",
    )


def test_rpc_pools_capture() -> None:
    pools = p.parse_pools(H, capture("pools.json"))
    assert len(pools) == 3
    assert pools[0].url == "stratum+tcp://btc.global.luxor.tech:700"
    assert pools[0].user == "satokierepair.H04YK"
    assert pools[0].alive
    assert pools[0].active
    assert not pools[1].active
    assert [pool.priority for pool in pools] == [0, 1, 2]


def test_system_info_capture_s21() -> None:
    info = p.parse_system_info(H, capture("system_info.json"))
    assert info.model == "S21"
    assert info.serial == "THQING0BDJAB024NF"
    assert info.mac == "02:55:97:22:3M:72"
    assert info.hostname == "Antminer"
    assert info.firmware == "FR-1.12(251009-S21)"


def test_devs_capture_is_a_valid_envelope() -> None:
    reply = check_envelope(H, "devs", capture("devs.json"))
    assert reply["DEVS"][0]["Name"] == "BTM_SOC"


def test_system_info_serial_no_variant() -> None:
    info = p.parse_system_info(H, fixture("antminer_s21_fr1.12_get_system_info.json"))
    assert info.serial == "S21SERIAL0001"
    assert info.model == "S21"
    assert info.hostname == "s21-rack4"


def test_rpc_stats_offset_six_and_temp_out_pcb() -> None:
    stats = p.parse_stats(H, fixture("antminer_s21_fr1.12_rpc_stats.json"))
    assert stats.model == "S21"
    assert stats.hashrate_5s_hs == pytest.approx(2.0123456e14)  # a string on this firmware
    assert stats.fans_rpm == (6120, 6060, 6180, 6000)
    assert [b.index for b in stats.boards] == [0, 1, 2]
    assert [b.chips for b in stats.boards] == [108, 108, 108]
    assert [b.board_temp_c for b in stats.boards] == [61, 63, None]  # "0-0-0-0" is absent
    assert [b.chip_temp_c for b in stats.boards] == [71, 73, 75]


def test_web_summary_fixture() -> None:
    summary = p.parse_web_summary(H, fixture("antminer_s19jpro_49.0.1.3_summary.json"))
    assert summary.model == "S19j Pro"
    assert summary.firmware == "49.0.1.3"
    assert summary.elapsed_s == 3600
    assert summary.hashrate_5s_hs == pytest.approx(1.012345e14)
    assert summary.hashrate_30m_hs == pytest.approx(1.008001e14)
    assert summary.nameplate_hs == pytest.approx(1e14)
    assert summary.problems == (
        r.StatusItem(kind="fans", status="e", code="1", message="fan lost"),
    )


def test_web_stats_fixture() -> None:
    stats = p.parse_web_stats(H, fixture("antminer_s19jpro_49.0.1.3_stats.json"))
    assert stats.model == "S19j Pro"
    assert stats.work_mode == 0
    assert stats.fans_rpm == (6000, 5940, 6000, 5880)
    assert stats.hashrate_5s_hs == pytest.approx(1.012345e14)
    assert [b.hashrate_hs for b in stats.boards] == pytest.approx(
        [3.38001e13, 3.37002e13, 3.37342e13]
    )
    assert [b.board_temp_c for b in stats.boards] == [71, 72, None]
    assert [b.chip_temp_c for b in stats.boards] == [76, 77, None]
    assert [b.serial for b in stats.boards] == ["HB0SN", "HB1SN", None]


def test_web_stats_sleeping_s21() -> None:
    stats = p.parse_web_stats(H, fixture("antminer_s21_fr1.12_stats.json"))
    assert stats.model == "S21"  # " (ripple)" suffix stripped
    assert stats.work_mode == r.WorkMode.SLEEP  # sent as the string "1"
    assert stats.hashrate_5s_hs == 0
    assert stats.boards == ()
    assert stats.fans_rpm == (0, 0, 0, 0)


def test_miner_conf_fixture_and_full_write_body() -> None:
    conf = p.parse_miner_conf(H, fixture("antminer_s19jpro_49.0.1.3_get_miner_conf.json"))
    assert conf.work_mode == 0
    assert conf.has_pools
    body = conf.write_body(r.WorkMode.SLEEP)
    assert body["miner-mode"] == 1
    assert body["bitmain-work-mode"] == "1"
    assert body["bitmain-fan-ctrl"] is False
    assert body["bitmain-fan-pwm"] == "100"
    assert body["freq-level"] == "100"
    assert body["pools"][0] == {
        "url": "stratum+tcp://pool.example:3333",
        "user": "acct.w1",
        "pass": "x",
    }
    assert len(body["pools"]) == 3


def test_miner_conf_without_work_mode_keeps_immersion_fans() -> None:
    conf = p.parse_miner_conf(H, fixture("antminer_s21exphydro_fr1.0_get_miner_conf.json"))
    assert conf.work_mode is None
    body = conf.write_body(r.WorkMode.NORMAL)
    assert body["bitmain-fan-ctrl"] is True
    assert body["bitmain-fan-pwm"] == "0"
    assert body["freq-level"] == "90"
    assert [pool["url"] for pool in body["pools"]] == ["stratum+tcp://pool.example:3333", "", ""]


def test_web_error_status_is_typed() -> None:
    with pytest.raises(DeviceStatusError):
        p.parse_web_stats(H, {"STATUS": {"STATUS": "E", "Msg": "busy"}, "STATS": []})


@pytest.mark.parametrize(
    "reply",
    [
        [],
        {"STATS": "x"},
        {"STATS": []},
        {"STATS": [{"rate_5s": "fast"}]},
        {"STATS": [{"rate_5s": 1.0, "rate_unit": "parsecs"}]},
        {"STATS": [{"fan": [1, "two"]}]},
        {"STATS": [{"chain": [{"temp_pcb": {"a": 1}}]}]},
        {"STATUS": "S", "STATS": [{}]},
    ],
)
def test_web_stats_wrong_shapes(reply: object) -> None:
    with pytest.raises(ProtocolError) as caught:
        p.parse_web_stats(H, reply)
    assert caught.value.host == H


def test_set_reply() -> None:
    p.parse_set_reply(H, {"stats": "success", "code": "M000", "msg": "OK!"})
    with pytest.raises(WriteRejected):
        p.parse_set_reply(H, {"stats": "error", "code": "M001", "msg": "Invalid JSON"})


@pytest.mark.parametrize(
    ("raw", "model"),
    [
        ("Antminer S19j Pro", "S19j Pro"),
        ("Antminer S21 (ripple)", "S21"),
        ("S19 XP", "S19 XP"),
        ("Antminer S21 Hyd.", "S21 Hydro"),
        ("Antminer S21+ Hyd", "S21+ Hydro"),
        ("", None),
    ],
)
def test_model_from_type(raw: str, model: str | None) -> None:
    assert r.model_from_type(raw) == model

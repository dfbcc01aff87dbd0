"""set_miner_conf semantics and the firmware quirks, without sockets."""

from __future__ import annotations

from simulators.antminer.state import AntminerQuirk, MinerConf, apply_conf
from simulators.device import PoolEntry
from simulators.physics import WorkMode

POOLS = [{"url": "stratum+tcp://a:3333", "user": "w1", "pass": "x"}]
NONE: frozenset[AntminerQuirk] = frozenset()


def test_miner_mode_int_or_string() -> None:
    conf = MinerConf()
    for value, mode in [(1, WorkMode.SLEEP), ("3", WorkMode.LOW_POWER), ("0", WorkMode.NORMAL)]:
        change = apply_conf(MinerConf(work_mode=WorkMode.SLEEP), {"miner-mode": value}, NONE)
        assert change.conf.work_mode is mode
    assert apply_conf(conf, {"miner-mode": 2}, NONE).conf.work_mode is WorkMode.NORMAL


def test_mode_is_read_back_from_bitmain_work_mode() -> None:
    change = apply_conf(MinerConf(), {"miner-mode": 1}, NONE)
    assert change.mode_changed
    assert change.conf.as_web(490)["bitmain-work-mode"] == "1"


def test_pools_in_the_body_replace_the_stored_ones_padded_to_three() -> None:
    conf = apply_conf(MinerConf(), {"pools": POOLS, "miner-mode": 0}, NONE).conf
    assert conf.pools[0] == PoolEntry("stratum+tcp://a:3333", "w1", "x")
    assert conf.pools[1:] == (PoolEntry("", "", ""),) * 2


def test_missing_pools_keep_the_stored_ones_on_current_firmware() -> None:
    before = MinerConf()
    assert apply_conf(before, {"miner-mode": 1}, NONE).conf.pools == before.pools
    assert apply_conf(before, {"pools": [], "miner-mode": 1}, NONE).conf.pools == before.pools


def test_partial_body_wipes_pools_quirk() -> None:
    quirks = frozenset({AntminerQuirk.PARTIAL_BODY_WIPES_POOLS})
    after = apply_conf(MinerConf(), {"miner-mode": 1}, quirks).conf
    assert all(p.url == "" for p in after.pools)


def test_work_mode_key_alone_works_unless_the_quirk_ignores_it() -> None:
    assert apply_conf(MinerConf(), {"bitmain-work-mode": "1"}, NONE).conf.work_mode is (
        WorkMode.SLEEP
    )
    quirks = frozenset({AntminerQuirk.WORK_MODE_KEY_IGNORED})
    ignored = apply_conf(MinerConf(), {"bitmain-work-mode": "1"}, quirks)
    assert ignored.conf.work_mode is WorkMode.NORMAL
    assert not ignored.mode_changed
    both = apply_conf(MinerConf(), {"bitmain-work-mode": "1", "miner-mode": 1}, quirks)
    assert both.conf.work_mode is WorkMode.SLEEP


def test_fan_settings_accept_pyasics_pwn_spelling() -> None:
    conf = apply_conf(MinerConf(), {"bitmain-fan-ctrl": True, "bitmain-fan-pwn": "40"}, NONE).conf
    assert conf.manual_fan_percent == 40
    assert conf.as_web(490)["bitmain-fan-pwm"] == "40"
    auto = apply_conf(conf, {"bitmain-fan-ctrl": False, "bitmain-fan-pwm": "100"}, NONE).conf
    assert auto.manual_fan_percent is None

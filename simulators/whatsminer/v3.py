"""Whatsminer API v3 on 4433: reads shaped like tests/fixtures/captures/whatsminer/v3,
and ``set.*`` writes authenticated with salted SHA-256 tokens.

A reply is ``{"code":0,"when":...,"msg":{...},"desc":<cmd>}``; writes answer
``"msg":"ok"``. Error codes are this simulator's choice ([E], no public list):
-1 unknown command or bad JSON, -2 bad parameter, -3 token or account check failed,
-4 writes disabled (API switch off). The token is not checked against the clock:
clients stamp ``ts`` with their own time, which a sped-up simulation does not share.
"""

from __future__ import annotations

from typing import Any

from simulators.physics import Phase
from simulators.whatsminer.crypto import v3_token
from simulators.whatsminer.state import PowerMode
from simulators.whatsminer.unit import WhatsminerUnit
from simulators.whatsminer.v2_reads import stamp

__all__ = ["V3_ACCOUNT", "WRITE_COMMANDS", "v3_reply"]

V3_ACCOUNT = "super"
_API = "3.0.2"
_STOPPED_ERROR = "btminer process is down err"
WRITE_COMMANDS = frozenset(
    {
        "set.miner.service", "set.miner.power_limit", "set.miner.power_percent",
        "set.miner.power_mode", "set.miner.mode", "set.system.reboot", "set.system.led",
        "set.miner.fastboot",
    }
)  # fmt: skip


def _error(code: int, msg: str, when: int, desc: str) -> dict[str, Any]:
    return {"code": code, "when": when, "msg": msg, "desc": desc}


def _ok(msg: Any, when: int, desc: str) -> dict[str, Any]:
    return {"code": 0, "when": when, "msg": msg, "desc": desc}


def _device_sections(dev: WhatsminerUnit) -> dict[str, Any]:
    s = dev.physics.sample()
    spec = dev.spec
    c = dev.control
    miner: dict[str, Any] = {
        "board-num": str(spec.boards),
        "detect-hash-rate": ":".join(
            str(round(spec.nameplate_hs / spec.boards / 1e9 * f)) for f in dev.board_bins
        ),
        "fast-boot": "enable" if c.fast_boot else "disable",
        "hash-board": spec.variant.replace("V", ""),
        "hash-percent": str(c.percent or 0),
        "miner-sn": dev.serial,
        "pool-strategy": "FAILOVER",
        "type": spec.type_string,
        "working": "false" if c.mineroff else "true",
    }
    for i in range(spec.boards):
        miner[f"chipdata{i}"] = f"K8EC37{i}-2426 BINVE6-197806A"
        miner[f"pcbsn{i}"] = f"{dev.serial[:12]}{i + 1:08d}"
    return {
        "network": {
            "dns": "127.0.0.1",
            "gateway": "127.0.0.1",
            "hostname": dev.hostname,
            "ip": dev.address,
            "mac": dev.mac,
            "netmask": "255.0.0.0",
            "proto": "dhcp",
        },
        "miner": miner,
        "power": {
            "fanspeed": dev.psu_fan_rpm(s),
            "hwversion": "RT0159",
            "mode": "1",
            "model": spec.psu_model,
            "sn": dev.psu_serial,
            "swversion": "230224.220429",
            "type": spec.psu_model,
            "vendor": "1",
        },
        "salt": dev.v3_salt,
        "system": {
            "api": _API,
            "apiswitch": "1" if dev.options.api_writes else "0",
            "control-board-version": spec.control_board,
            "fwversion": dev.firmware,
            "ledstatus": "manual" if c.led_manual else "auto",
            "platform": "H616",
        },
    }


def _error_codes(dev: WhatsminerUnit) -> list[dict[str, str]] | str:
    if dev.control.mineroff:
        return _STOPPED_ERROR
    return [{str(code): when, "reason": "simulated"} for code, when in dev.error_codes]


def _device_info(dev: WhatsminerUnit, param: Any) -> dict[str, Any] | None:
    sections = _device_sections(dev)
    if param in (None, ""):
        errors = _error_codes(dev)
        return sections | ({"error-code": errors} if errors else {})
    if param == "error-code":
        return {"error-code": _error_codes(dev)}
    if param in sections:
        return {param: sections[param]}
    return None


def _summary(dev: WhatsminerUnit) -> dict[str, Any]:
    s = dev.physics.sample()
    ths = 1e12
    temps = s.chip_temps_c or (0.0,)
    return {
        "Debug": "",
        "board-temperature": [round(t, 1) for t in s.pcb_temps_c],
        "bootup-time": int(s.uptime_s + dev.physics.timings.boot_s),
        "chip-temp-avg": round(sum(temps) / len(temps), 1),
        "chip-temp-max": round(max(temps) + 6.0, 1),
        "chip-temp-min": round(min(temps) - 8.0, 1),
        "elapsed": int(s.uptime_s),
        "environment-temperature": round(dev.physics.spec.ambient_c + 3.5, 1),
        "factory-hash": round(dev.spec.nameplate_hs / ths, 3),
        "fan-speed-in": s.fans_rpm[0] if s.fans_rpm else 0,
        "fan-speed-out": s.fans_rpm[1] if len(s.fans_rpm) > 1 else 0,
        "freq-avg": dev.spec.frequency_mhz if s.hashrate_hs > 0 else 0,
        "hash-15min": round(s.hashrate_15m_hs / ths, 3),
        "hash-1min": round(s.hashrate_1m_hs / ths, 3),
        "hash-average": round(s.hashrate_avg_hs / ths, 3),
        "hash-realtime": round(s.hashrate_hs / ths, 3),
        "power-5min": round(s.power_w, 1),
        "power-limit": dev.control.power_limit_w,
        "power-rate": round(s.power_w / (s.hashrate_hs / ths), 2) if s.hashrate_hs else 0.0,
        "power-realtime": round(s.power_w, 1),
        "up-freq-finish": 1 if s.phase is Phase.RUNNING else 0,
    }


def _edevs(dev: WhatsminerUnit) -> list[dict[str, Any]]:
    s = dev.physics.sample()
    ths = 1e12
    boards = dev.spec.boards
    share_avg = s.hashrate_avg_hs / boards
    return [
        {
            "chip-temp-avg": round(s.chip_temps_c[i], 1),
            "chip-temp-max": round(s.chip_temps_c[i] + 6.0, 1),
            "chip-temp-min": round(s.chip_temps_c[i] - 8.0, 1),
            "effective-chips": dev.spec.chips_per_board,
            "factory-hash": round(dev.spec.nameplate_hs / boards / ths, 3),
            "freq": float(dev.spec.frequency_mhz if s.hashrate_hs > 0 else 0),
            "hash-average": round(share_avg / ths, 3),
            "hash-realtime": round(s.board_hashrates_hs[i] / ths, 3),
            "id": i,
            "status": "alive",
        }
        for i in range(boards)
    ]


def _pools(dev: WhatsminerUnit) -> list[dict[str, Any]]:
    mining = dev.physics.sample().hashrate_hs > 0
    return [
        {
            "account": pool.user,
            "id": i,  # not in the capture; pyasic's get_config sorts the pools by it
            "pool-priority": i,
            "status": "alive",
            "stratum-active": mining and i == 0,
            "url": pool.url,
        }
        for i, pool in enumerate(p for p in dev.control.pools if p.url)
    ]


def _miner_setting(dev: WhatsminerUnit) -> dict[str, Any]:
    c = dev.control
    return {
        "power-limit": c.power_limit_w,
        "power-mode": c.power_mode.value,
        "upfreq-speed": c.upfreq_speed,
        "fast-boot": "enable" if c.fast_boot else "disable",
        "target-freq": c.target_freq_pct,
        "fast-mining": "disable",
        "power-percent": c.percent or 0,
        "heat-mode": "normal",
    }


def _read(dev: WhatsminerUnit, cmd: str, param: Any) -> dict[str, Any] | None:
    if cmd == "get.device.info":
        return _device_info(dev, param)
    if cmd == "get.miner.status":
        builders = {"summary": _summary, "edevs": _edevs, "pools": _pools}
        builder = builders.get(str(param))
        return {str(param): builder(dev)} if builder else None
    if cmd == "get.miner.setting":
        return _miner_setting(dev)
    if cmd == "get.system.setting":
        return {
            "hostname": dev.hostname,
            "ntp-server": [],
            "time-zone": "UTC",
            "time-randomized": "disable",
            "web-pools": "enable",
        }
    if cmd == "get.fan.setting":
        c = dev.control
        return {
            "fan-poweroff-cool": "enable" if c.poweroff_cool else "disable",
            "fan-zero-speed": "disable",
            "fan-temp-offset": 0,
        }
    if cmd == "get.miner.history":
        return {"data": [], "time": stamp(dev.clock.unix())}
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, dict):
        value = value.get("percent", value.get("power_limit"))
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _set(dev: WhatsminerUnit, cmd: str, req: dict[str, Any], when: int) -> dict[str, Any]:
    if not dev.options.api_writes:
        return _error(-4, "no permission", when, cmd)
    ts, token = req.get("ts"), req.get("token")
    if req.get("account") != V3_ACCOUNT or not isinstance(ts, int) or not isinstance(token, str):
        return _error(-3, "invalid token", when, cmd)
    if token != v3_token(cmd, dev.tokens_v3_password, dev.v3_salt, ts):
        return _error(-3, "invalid token", when, cmd)
    if dev.ignores_writes() and cmd in WRITE_COMMANDS:
        return _ok("ok", when, cmd)  # acknowledged, and nothing changes
    c = dev.control
    param = req.get("param")
    problem: str | None = None
    if cmd == "set.miner.service":
        actions = {"start": c.power_on, "stop": c.power_off, "restart": c.restart_mining}
        if param in actions:
            actions[param]()
        elif param not in {"enable", "disable"}:
            problem = "invalid param"
    elif cmd == "set.miner.power_limit":
        watts = _int(param)
        problem = "invalid param" if watts is None else c.set_power_limit(watts)
    elif cmd == "set.miner.power_percent":
        percent = _int(param)
        problem = "invalid param" if percent is None else c.set_percent(percent)
    elif cmd in {"set.miner.power_mode", "set.miner.mode"}:
        try:
            c.set_power_mode(PowerMode(str(param)))
        except ValueError:
            problem = "invalid param"
    elif cmd == "set.system.reboot":
        dev.reboot()
    elif cmd == "set.system.led":
        c.led_manual = param != "auto"
    elif cmd == "set.miner.fastboot":
        c.fast_boot = param == "enable"
    else:
        return _error(-1, "invalid command", when, cmd)
    if problem:
        return _error(-2, problem, when, cmd)
    return _ok("ok", when, cmd)


def v3_reply(dev: WhatsminerUnit, request: dict[str, Any] | None) -> dict[str, Any]:
    when = int(dev.clock.unix())
    if request is None:
        return _error(-1, "invalid json", when, "")
    cmd = request.get("cmd")
    if not isinstance(cmd, str):
        return _error(-1, "missing cmd", when, "")
    if cmd.startswith("set."):
        return _set(dev, cmd, request, when)
    msg = _read(dev, cmd, request.get("param"))
    if msg is None:
        known = cmd in {"get.device.info", "get.miner.status"}
        return _error(
            -2 if known else -1, "invalid param" if known else "invalid command", when, cmd
        )
    return _ok(msg, when, cmd)

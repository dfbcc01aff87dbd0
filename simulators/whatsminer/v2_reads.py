"""Whatsminer API v2 read replies (port 4028), shaped like tests/fixtures/captures/whatsminer/v2.

Two envelopes: summary/pools/devs/edevs/devdetails/version use the cgminer STATUS
array; the Whatsminer-specific commands are flat (``"STATUS":"S"``, ``"Code":131``,
``"Msg":{...}``).
"""

from __future__ import annotations

import time
from typing import Any

from simulators.cgminer_rpc import ok_reply
from simulators.physics import Phase, PhysicsSample
from simulators.whatsminer.unit import WhatsminerUnit

__all__ = ["CGMINER_DESCRIPTION", "READS", "flat_error", "flat_ok"]

CGMINER_DESCRIPTION = "cgminer 4.9.2"
_API_VERSION = "2.0.5"
_SHARE_DIFFICULTY = 65536 * 8


def flat_ok(msg: Any, when: float, *, code: int = 131) -> dict[str, Any]:
    return {"STATUS": "S", "When": int(when), "Code": code, "Msg": msg, "Description": ""}


def flat_error(code: int, msg: str, when: float) -> dict[str, Any]:
    return {"STATUS": "E", "When": int(when), "Code": code, "Msg": msg, "Description": ""}


def _mhs(hs: float) -> float:
    return round(hs / 1e6, 2)


def _chip_temps(s: PhysicsSample) -> tuple[float, float, float]:
    if not s.chip_temps_c:
        return 0.0, 0.0, 0.0
    avg = sum(s.chip_temps_c) / len(s.chip_temps_c)
    return round(min(s.chip_temps_c) - 8.0, 1), round(max(s.chip_temps_c) + 6.0, 1), round(avg, 1)


def _shares(dev: WhatsminerUnit, s: PhysicsSample) -> tuple[int, int]:
    accepted = int(s.hashrate_avg_hs * s.uptime_s / (_SHARE_DIFFICULTY * 2**32))
    return accepted, accepted // 500


def _summary(dev: WhatsminerUnit, when: float) -> dict[str, Any]:
    s = dev.physics.sample()
    accepted, rejected = _shares(dev, s)
    cmin, cmax, cavg = _chip_temps(s)
    fans = s.fans_rpm
    errors = dev.error_codes
    entry: dict[str, Any] = {
        "Elapsed": int(s.uptime_s),
        "MHS av": _mhs(s.hashrate_avg_hs),
        "MHS 5s": _mhs(s.hashrate_hs),
        "MHS 1m": _mhs(s.hashrate_1m_hs),
        "MHS 5m": _mhs(s.hashrate_5m_hs),
        "MHS 15m": _mhs(s.hashrate_15m_hs),
        "HS RT": _mhs(s.hashrate_hs),
        "Accepted": accepted,
        "Rejected": rejected,
        "Hardware Errors": int(s.uptime_s // 3600),
        "Best Share": accepted * 1024 + 82000000 if accepted else 0,
        "Pool Rejected%": round(100.0 * rejected / accepted, 4) if accepted else 0.0,
        "Fan Speed In": fans[0] if fans else 0,
        "Fan Speed Out": fans[1] if len(fans) > 1 else 0,
        "Power": round(s.power_w),
        "Power Limit": dev.control.power_limit_w,
        "Power Mode": dev.control.power_mode.value.capitalize(),
        "Factory GHS": round(dev.spec.nameplate_hs / 1e9),
        "Target Freq": dev.spec.frequency_mhz,
        "Env Temp": round(dev.physics.spec.ambient_c + 3.5, 1),
        "Chip Temp Min": cmin,
        "Chip Temp Max": cmax,
        "Chip Temp Avg": cavg,
        "Power Fanspeed": dev.psu_fan_rpm(s),
        "Uptime": int(s.uptime_s + dev.physics.timings.boot_s),
        "Hash Stable": s.phase is Phase.RUNNING,
        "MAC": dev.mac,
        "Firmware Version": f"'{dev.firmware}'",
        "Error Code Count": len(errors),
    }
    for i, (code, _stamp) in enumerate(errors):
        entry[f"Error Code {i}"] = code
    return ok_reply(11, "Summary", when=when, description=CGMINER_DESCRIPTION, SUMMARY=[entry])


def _devs(dev: WhatsminerUnit, when: float) -> dict[str, Any]:
    s = dev.physics.sample()
    accepted, rejected = _shares(dev, s)
    mining = s.hashrate_hs > 0
    boards = dev.spec.boards
    entries = []
    for i in range(boards):
        share = s.board_hashrates_hs[i] / s.hashrate_hs if mining else 0.0
        chip = s.chip_temps_c[i]
        entries.append(
            {
                "ASC": i,
                "Slot": i,
                "Name": "SM",
                "ID": i,
                "Enabled": "Y",
                "Status": "Alive",
                "Temperature": round(s.pcb_temps_c[i], 1),
                "Chip Frequency": dev.spec.frequency_mhz if mining else 0,
                "Frequency": float(dev.spec.frequency_mhz if mining else 0),
                "MHS av": _mhs(s.hashrate_avg_hs / boards),
                "MHS 5s": _mhs(s.board_hashrates_hs[i]),
                "MHS 1m": _mhs(s.hashrate_1m_hs * share if mining else 0.0),
                "MHS 5m": _mhs(s.hashrate_5m_hs * share if mining else 0.0),
                "MHS 15m": _mhs(s.hashrate_15m_hs * share if mining else 0.0),
                "Effective Chips": dev.spec.chips_per_board,
                "PCB SN": f"{dev.serial[:12]}{i + 1:08d}",
                "Chip Temp Min": round(chip - 8.0, 1),
                "Chip Temp Max": round(chip + 6.0, 1),
                "Chip Temp Avg": round(chip, 1),
                "Upfreq Complete": 1 if s.phase is Phase.RUNNING else 0,
                "Device Elapsed": int(s.uptime_s),
                "Accepted": accepted // boards,
                "Rejected": rejected // boards,
                "Factory GHS": round(dev.spec.nameplate_hs / boards / 1e9),
                "Fan Speed In": s.fans_rpm[0] if s.fans_rpm else 0,
                "Fan Speed Out": s.fans_rpm[1] if len(s.fans_rpm) > 1 else 0,
            }
        )
    msg = f"{boards} ASC(s)"
    return ok_reply(9, msg, when=when, description=CGMINER_DESCRIPTION, DEVS=entries)


def _devdetails(dev: WhatsminerUnit, when: float) -> dict[str, Any]:
    details = [
        {
            "DEVDETAILS": i,
            "Name": "SM",
            "ID": i,
            "Driver": "bitmicro",
            "Kernel": "",
            "Model": dev.spec.type_string,
        }
        for i in range(dev.spec.boards)
    ]
    return ok_reply(69, "Device Details", when=when, description="btminer", DEVDETAILS=details)


def _version(dev: WhatsminerUnit, when: float) -> dict[str, Any]:
    return ok_reply(
        22,
        "CGMiner versions",
        when=when,
        description="btminer",
        VERSION=[{"API": "3.7", "Miner": "btminer", "CompileTime": dev.firmware}],
    )


def _pools(dev: WhatsminerUnit, when: float) -> dict[str, Any]:
    s = dev.physics.sample()
    accepted, rejected = _shares(dev, s)
    entries = []
    for i, pool in enumerate(p for p in dev.control.pools if p.url):
        active = i == 0 and s.hashrate_hs > 0
        entries.append(
            {
                "POOL": i + 1,
                "URL": pool.url,
                "Status": "Alive",
                "Priority": i,
                "Quota": 1,
                "Getworks": int(s.uptime_s // 30) if active else 0,
                "Accepted": accepted if i == 0 else 0,
                "Rejected": rejected if i == 0 else 0,
                "Stale": 0,
                "Get Failures": 0,
                "Remote Failures": 0,
                "User": pool.user,
                "Last Share Time": int(when) if active else 0,
                "Stratum Active": active,
                "Stratum URL": pool.url.split("://")[-1].split(":")[0],
            }
        )
    msg = f"{len(entries)} Pool(s)"
    return ok_reply(7, msg, when=when, description=CGMINER_DESCRIPTION, POOLS=entries)


def _get_version(dev: WhatsminerUnit, when: float) -> dict[str, Any]:
    return flat_ok({"api_ver": _API_VERSION, "fw_ver": dev.firmware, "platform": "H616"}, when)


def _get_psu(dev: WhatsminerUnit, when: float) -> dict[str, Any]:
    s = dev.physics.sample()
    vin = 230.0
    msg = {
        "name": dev.spec.psu_model,
        "model": dev.spec.psu_model,
        "hw_version": "",
        "sw_version": "230208.220429",
        "iin": f"{s.power_w / vin * 1.04:.2f}",
        "vin": f"{vin:.0f}",
        "fan_speed": str(dev.psu_fan_rpm(s)),
        "serial_no": dev.psu_serial,
        "vendor": "1",
        "version": "1",
    }
    return flat_ok(msg, when)


def _status(dev: WhatsminerUnit, when: float) -> dict[str, Any]:
    c = dev.control
    return flat_ok(
        {
            "mineroff": "true" if c.mineroff else "false",
            "mineroff_reason": "api" if c.mineroff else "",
            "mineroff_time": c.mineroff_time,
            "FirmwareVersion": dev.firmware,
            "power_mode": c.power_mode.value,
            "power_limit_set": str(c.power_limit_w),
            "hash_percent": str(c.percent or 0),
        },
        when,
    )


def _error_code(dev: WhatsminerUnit, when: float) -> dict[str, Any]:
    return flat_ok({"error_code": [{str(code): stamp} for code, stamp in dev.error_codes]}, when)


def miner_info(dev: WhatsminerUnit, fields: str | None) -> dict[str, str]:
    every = {
        "ip": dev.address,
        "proto": "dhcp",
        "netmask": "255.0.0.0",
        "gateway": "127.0.0.1",
        "dns": "127.0.0.1",
        "hostname": dev.hostname,
        "mac": dev.mac,
        "ledstat": "manual" if dev.control.led_manual else "auto",
        "minersn": dev.serial,
    }
    if not fields:
        return every
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    return {name: every[name] for name in wanted if name in every}


def stamp(unix: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(unix))


READS = {
    "summary": _summary,
    "devs": _devs,
    "edevs": _devs,
    "devdetails": _devdetails,
    "version": _version,
    "pools": _pools,
    "get_version": _get_version,
    "get_psu": _get_psu,
    "status": _status,
    "get_error_code": _error_code,
}

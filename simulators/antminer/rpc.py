"""Replies of the stock Antminer CGMiner RPC (port 4028), shaped like the captures."""

from __future__ import annotations

import math
from typing import Any

from simulators.antminer.unit import AntminerUnit
from simulators.cgminer_rpc import RpcRequest, error_reply, ok_reply

__all__ = ["ALLOWED_COMMANDS", "rpc_reply"]

_DESCRIPTION = "cgminer 1.0.0"

# Stock api-groups "A:stats:pools:devs:summary:version": everything else is denied.
ALLOWED_COMMANDS = frozenset({"version", "summary", "stats", "pools", "devs"})
# Commands cgminer knows (api.c); known but not allowed -> 45, unknown -> 14.
_KNOWN_COMMANDS = ALLOWED_COMMANDS | frozenset(
    {
        "config", "devdetails", "edevs", "estats", "coin", "asc", "asccount", "ascset",
        "ascenable", "ascdisable", "ascidentify", "pga", "pgacount", "pgaset", "switchpool",
        "enablepool", "disablepool", "addpool", "removepool", "poolpriority", "poolquota",
        "save", "quit", "privileged", "notify", "restart", "debug", "setconfig", "usbstats",
        "check", "failover-only", "lcd", "lockstats", "zero", "hotplug",
    }
)  # fmt: skip


def _ghs(hs: float) -> float:
    return round(hs / 1e9, 2)


def _sensor_string(values: tuple[int, ...]) -> str:
    return "-".join(str(v) for v in values)


def _version(dev: AntminerUnit, when: float) -> dict[str, Any]:
    m = dev.spec
    return ok_reply(
        22,
        "CGMiner versions",
        when=when,
        description=_DESCRIPTION,
        VERSION=[
            {
                "API": "3.1",
                "BMMiner": "1.0.0",
                "CompileTime": m.compile_time,
                "Miner": m.firmware,
                "Type": m.type_string,
            }
        ],
    )


def _summary(dev: AntminerUnit, when: float) -> dict[str, Any]:
    s = dev.physics.sample()
    c = dev.counters(s.uptime_s)
    return ok_reply(
        11,
        "Summary",
        when=when,
        description=_DESCRIPTION,
        SUMMARY=[
            {
                "Accepted": c.accepted,
                "Best Share": c.best_share,
                "Device Hardware%": 0.0,
                "Device Rejected%": 0.0,
                "Difficulty Accepted": float(c.accepted * 524288),
                "Difficulty Rejected": float(c.rejected * 524288),
                "Difficulty Stale": 0.0,
                "Discarded": c.accepted * 1100,
                "Elapsed": int(s.uptime_s),
                "Found Blocks": 0,
                "GHS 30m": _ghs(s.hashrate_30m_hs),
                "GHS 5s": _ghs(s.hashrate_hs),
                "GHS av": _ghs(s.hashrate_avg_hs),
                "Get Failures": 0,
                "Getwork": c.getworks,
                "Hardware Errors": c.hardware_errors,
                "Last getwork": int(when),
                "Local Work": c.accepted * 1100,
                "Network Blocks": int(s.uptime_s // 600),
                "Pool Rejected%": 0.0,
                "Pool Stale%": 0.0,
                "Rejected": c.rejected,
                "Remote Failures": 0,
                "Stale": 0,
                "Total MH": round(s.hashrate_avg_hs / 1e6 * s.uptime_s, 1),
                "Utility": round(c.accepted / (s.uptime_s / 60), 2) if s.uptime_s else 0.0,
                "Work Utility": round(s.hashrate_avg_hs / 2**32 * 60, 2),
            }
        ],
    )


def _stats(dev: AntminerUnit, when: float) -> dict[str, Any]:
    m = dev.spec
    s = dev.physics.sample()
    running = s.hashrate_hs > 0
    data: dict[str, Any] = {
        "Calls": 0,
        "Elapsed": int(s.uptime_s),
        "GHS 5s": _ghs(s.hashrate_hs),
        "GHS av": _ghs(s.hashrate_avg_hs),
        "ID": "BTM_SOC0",
        "Max": 0,
        "Min": 99999999,
        "Mode": 2,
        "STATS": 0,
        "Wait": 0,
        "fan_num": m.fans,
        "frequency": m.frequency_mhz,
        "miner_count": m.boards,
        "miner_id": dev.miner_id,
        "miner_version": m.firmware,
        "no_matching_work": dev.counters(s.uptime_s).hardware_errors,
        "rate_30m": _ghs(s.hashrate_30m_hs),
        "rate_unit": "GH",
        "temp_max": int(max(s.chip_temps_c, default=0)),
        "temp_num": m.boards,
        "total rate": _ghs(s.hashrate_avg_hs),
        "total_acn": m.boards * m.chips_per_board,
        "total_freqavg": m.frequency_mhz if running else 0,
        "total_rateideal": _ghs(m.nameplate_hs),
    }
    for i in range(4):
        data[f"fan{i + 1}"] = s.fans_rpm[i] if i < len(s.fans_rpm) else 0
    for i in range(4):
        n = i + 1
        present = i < m.boards
        pcb, chip = dev.board_sensors(s, i) if present else ((0,) * 4, (0,) * 4)
        data[f"chain_acn{n}"] = m.chips_per_board if present else 0
        data[f"chain_acs{n}"] = (" ooo" * math.ceil(m.chips_per_board / 3)) if present else ""
        data[f"chain_hw{n}"] = (
            dev.counters(s.uptime_s).hardware_errors // m.boards if present else 0
        )
        data[f"chain_rate{n}"] = f"{s.board_hashrates_hs[i] / 1e9:.2f}" if present else ""
        data[f"freq{n}"] = m.frequency_mhz if present else 0
        data[f"temp_pcb{n}"] = _sensor_string(pcb)
        data[f"temp_chip{n}"] = _sensor_string(chip)
        data[f"temp_pic{n}"] = _sensor_string(tuple(max(0, v - 10) for v in pcb))
        if i < 3:
            data[f"temp{n}"] = pcb[0] if present else 0
            data[f"temp2_{n}"] = chip[0] if present else 0
    return ok_reply(
        70,
        "CGMiner stats",
        when=when,
        description=_DESCRIPTION,
        STATS=[
            {
                "BMMiner": "1.0.0",
                "CompileTime": m.compile_time,
                "Miner": m.firmware,
                "Type": m.type_string,
            },
            dict(sorted(data.items())),
        ],
    )


def _pools(dev: AntminerUnit, when: float) -> dict[str, Any]:
    s = dev.physics.sample()
    c = dev.counters(s.uptime_s)
    entries = []
    for index, pool in enumerate(dev.pools):
        active = index == 0 and bool(pool.url) and s.hashrate_hs > 0
        host = pool.url.split("://", 1)[-1].rsplit(":", 1)[0] if pool.url else ""
        entries.append(
            {
                "Accepted": c.accepted if active else 0,
                "Best Share": float(c.best_share) if active else 0.0,
                "Diff": "524K" if active else "",
                "Diff1 Shares": 0,
                "Difficulty Accepted": float(c.accepted * 524288) if active else 0.0,
                "Difficulty Rejected": float(c.rejected * 524288) if active else 0.0,
                "Difficulty Stale": 0.0,
                "Discarded": c.accepted * 1100 if active else 0,
                "Get Failures": 0,
                "Getworks": c.getworks if active else (3 if pool.url else 0),
                "Has GBT": False,
                "Has Stratum": True,
                "Last Share Difficulty": 524288.0 if active else 0.0,
                "Last Share Time": "0:00:03" if active else "0",
                "Long Poll": "N",
                "POOL": index,
                "Pool Rejected%": 0.0,
                "Pool Stale%%": 0.0,
                "Priority": index,
                "Proxy": "",
                "Proxy Type": "",
                "Quota": 1,
                "Rejected": c.rejected if active else 0,
                "Remote Failures": 0,
                "Stale": 0,
                "Status": "Alive" if pool.url else "Dead",
                "Stratum Active": active,
                "Stratum URL": host if active else "",
                "URL": pool.url,
                "User": pool.user,
            }
        )
    n = len(entries)
    return ok_reply(7, f"{n} Pool(s)", when=when, description=_DESCRIPTION, POOLS=entries)


def _devs(dev: AntminerUnit, when: float) -> dict[str, Any]:
    s = dev.physics.sample()
    c = dev.counters(s.uptime_s)
    return ok_reply(
        9,
        "1 ASC(s)",
        when=when,
        description=_DESCRIPTION,
        DEVS=[
            {
                "ASC": 0,
                "Accepted": c.accepted,
                "Device Elapsed": int(s.uptime_s),
                "Device Hardware%": 0.0,
                "Device Rejected%": 0.0,
                "Diff1 Work": 0,
                "Difficulty Accepted": c.accepted * 524288,
                "Difficulty Rejected": c.rejected * 524288,
                "Enabled": "Y",
                "Hardware Errors": 0,
                "ID": 0,
                "Last Share Difficulty": int(when),
                "Last Share Pool": 0,
                "Last Share Time": int(when),
                "Last Valid Work": int(when),
                "MHS 5s": 0.0,
                "MHS av": 0.0,
                "Name": "BTM_SOC",
                "Rejected": c.rejected,
                "Status": "Alive",
                "Tenperature": 0.0,  # sic: the stock firmware's spelling
                "Total MH": 0.0,
                "Utility": 0.0,
            }
        ],
    )


_BUILDERS = {
    "version": _version,
    "summary": _summary,
    "stats": _stats,
    "pools": _pools,
    "devs": _devs,
}


def _single(dev: AntminerUnit, command: str, when: float) -> dict[str, Any]:
    builder = _BUILDERS.get(command)
    if builder is not None:
        return builder(dev, when)
    if command in _KNOWN_COMMANDS:
        return error_reply(
            45, f"Access denied to '{command}' command", when=when, description=_DESCRIPTION
        )
    return error_reply(14, "Invalid command", when=when, description=_DESCRIPTION)


def rpc_reply(dev: AntminerUnit, request: RpcRequest) -> dict[str, Any]:
    when = dev.clock.unix()
    if request.invalid_json:
        return error_reply(23, "Invalid JSON", when=when, description=_DESCRIPTION)
    if request.command is None:
        return error_reply(24, "Missing JSON 'command'", when=when, description=_DESCRIPTION)
    command = request.command.strip().lower()
    if "+" not in command:
        return _single(dev, command, when)
    reply: dict[str, Any] = {}
    for part in command.split("+"):
        # A member cgminer will not run gets its own E status; the others still answer.
        reply[part] = [_single(dev, part, when)]
    reply["id"] = 1
    return reply

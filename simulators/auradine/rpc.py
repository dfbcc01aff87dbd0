"""Auradine's read-only GCMiner RPC on 4028, shaped like tests/fixtures/captures/auradine/v1.

Hashrates are in MH/s, device IDs are 1-based, and every ``Description`` names
GCMiner, which is how clients tell an Auradine from other cgminer derivatives.
"""

from __future__ import annotations

from typing import Any

from simulators.auradine.unit import AuradineUnit
from simulators.cgminer_rpc import RpcRequest, error_reply, ok_reply

__all__ = ["gcminer_reply", "rpc_sections"]

_SHARE_DIFFICULTY = 262144


def _mhs(hs: float) -> float:
    return round(hs / 1e6, 3)


def _summary(dev: AuradineUnit) -> tuple[int, str, dict[str, Any]]:
    s = dev.physics.sample()
    accepted = int(s.hashrate_avg_hs * s.uptime_s / (_SHARE_DIFFICULTY * 2**32))
    entry = {
        "Accepted": accepted,
        "Difficulty Accepted": accepted * _SHARE_DIFFICULTY,
        "Difficulty Rejected": (accepted // 400) * _SHARE_DIFFICULTY,
        "Elapsed": int(s.uptime_s),
        "Hardware Errors": 0,
        "Last getwork": 0,
        "MHS 15m": _mhs(s.hashrate_15m_hs),
        "MHS 1m": _mhs(s.hashrate_1m_hs),
        "MHS 5m": _mhs(s.hashrate_5m_hs),
        "MHS 5s": _mhs(s.hashrate_hs),
        "MHS av": _mhs(s.hashrate_avg_hs),
        "Rejected": accepted // 400,
        "Total MH": round(s.hashrate_avg_hs / 1e6 * s.uptime_s),
        "Utility": round(accepted / (s.uptime_s / 60), 4) if s.uptime_s else 0.0,
    }
    return 11, "Summary", {"SUMMARY": [entry]}


def _devs(dev: AuradineUnit) -> tuple[int, str, dict[str, Any]]:
    s = dev.physics.sample()
    entries = [
        {
            "DEV": i + 1,
            "Enabled": True,
            "ID": i + 1,
            "MHS 5s": _mhs(s.board_hashrates_hs[i]),
            "Name": "ASICBoard",
            "Status": "Alive",
            "Temperature": round(s.pcb_temps_c[i], 2),
        }
        for i in range(dev.spec.boards)
    ]
    return 9, f"{len(entries)} Dev(s)", {"DEVS": entries}


def _devdetails(dev: AuradineUnit) -> tuple[int, str, dict[str, Any]]:
    details = [
        {
            "DEVDETAILS": i,
            "Name": "ASICBoard",
            "ID": i + 1,
            "Driver": "gcminer",
            "Kernel": "",
            "Model": dev.spec.name,
        }
        for i in range(dev.spec.boards)
    ]
    return 69, "Device Details", {"DEVDETAILS": details}


def _version(dev: AuradineUnit) -> tuple[int, str, dict[str, Any]]:
    return 22, "GCMiner versions", {"VERSION": [{"API": "1.0", "GCMiner": dev.gcminer_version}]}


def _asccount(dev: AuradineUnit) -> tuple[int, str, dict[str, Any]]:
    count = dev.spec.boards * dev.spec.chips_per_board
    return 104, "ASC count", {"ASCCount": [{"AsicCount": count, "BoardCount": dev.spec.boards}]}


def _pools(dev: AuradineUnit) -> tuple[int, str, dict[str, Any]]:
    s = dev.physics.sample()
    mining = s.hashrate_hs > 0
    accepted = int(s.hashrate_avg_hs * s.uptime_s / (_SHARE_DIFFICULTY * 2**32))
    entries = [
        {
            "Accepted": accepted if i == 0 else 0,
            "POOL": i,
            "Priority": i,
            "Quota": 1,
            "Rejected": accepted // 400 if i == 0 else 0,
            "Status": "Alive" if i == 0 or mining else "Dead",
            "Stratum Active": mining and i == 0,
            "URL": pool.url,
            "User": pool.user,
        }
        for i, pool in enumerate(p for p in dev.control.pools if p.url)
    ]
    return 7, f"{len(entries)} Pool(s)", {"POOLS": entries}


_SECTIONS = {
    "summary": _summary,
    "devs": _devs,
    "devdetails": _devdetails,
    "version": _version,
    "asccount": _asccount,
    "pools": _pools,
}


def rpc_sections(dev: AuradineUnit, command: str, description: str) -> dict[str, Any] | None:
    """A cgminer-enveloped reply for one report command (the REST API serves these too)."""
    builder = _SECTIONS.get(command)
    if builder is None:
        return None
    code, msg, sections = builder(dev)
    when = dev.clock.unix()
    return ok_reply(code, msg, when=when, description=description, **sections)


def _single(dev: AuradineUnit, command: str) -> dict[str, Any]:
    reply = rpc_sections(dev, command, dev.gcminer_description)
    if reply is not None:
        return reply
    when = dev.clock.unix()
    return error_reply(14, "Invalid command", when=when, description=dev.gcminer_description)


def gcminer_reply(dev: AuradineUnit, request: RpcRequest) -> dict[str, Any]:
    when = dev.clock.unix()
    if request.invalid_json:
        return error_reply(23, "Invalid JSON", when=when, description=dev.gcminer_description)
    if request.command is None:
        return error_reply(
            24, "Missing JSON 'command'", when=when, description=dev.gcminer_description
        )
    command = request.command.strip().lower()
    if "+" not in command:
        return _single(dev, command)
    reply: dict[str, Any] = {part: [_single(dev, part)] for part in command.split("+")}
    reply["id"] = 1
    return reply

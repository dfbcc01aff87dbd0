"""Pure parsers for stock Antminer replies: decoded JSON in, frozen records out.

This module is the parsing surface: the RPC (4028) parsers live here, the web CGI
parsers in :mod:`drivers.antminer.cgi`, and both are importable from here; the records
they return are :mod:`drivers.antminer.records`'. RPC
replies arrive already envelope-checked by :mod:`drivers.cgminer`. Hashrates
leave in H/s, temperatures in °C, times in seconds. Every parser raises
:class:`ProtocolError` for a reply of the wrong shape and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drivers.antminer.cgi import (
    parse_miner_conf,
    parse_set_reply,
    parse_system_info,
    parse_web_stats,
    parse_web_summary,
)
from drivers.antminer.records import (
    PoolStatus,
    StatsReading,
    SummaryReading,
    VersionInfo,
    model_from_type,
)
from drivers.cgminer.values import (
    as_dict,
    first,
    opt_flag,
    opt_float,
    opt_int,
    opt_str,
    rate_multiplier,
    scaled_rate,
    section,
    sensor_temps,
)
from drivers.errors import ProtocolError
from drivers.types import HashBoard

__all__ = [
    "parse_miner_conf",
    "parse_pools",
    "parse_set_reply",
    "parse_stats",
    "parse_summary",
    "parse_system_info",
    "parse_version",
    "parse_web_stats",
    "parse_web_summary",
]


def parse_version(host: str, reply: Any) -> VersionInfo:
    item = first(host, reply, "VERSION")
    return VersionInfo(
        model=model_from_type(opt_str(host, item, "Type")),
        api=opt_str(host, item, "API"),
        miner_version=opt_str(host, item, "Miner"),
        compile_time=opt_str(host, item, "CompileTime"),
    )


def parse_summary(host: str, reply: Any) -> SummaryReading:
    item = first(host, reply, "SUMMARY")
    return SummaryReading(
        elapsed_s=opt_float(host, item, "Elapsed"),
        hashrate_5s_hs=scaled_rate(host, item, "GHS 5s", 1e9),
        hashrate_avg_hs=scaled_rate(host, item, "GHS av", 1e9),
        hashrate_30m_hs=scaled_rate(host, item, "GHS 30m", 1e9),
    )


_CHAIN_OFFSETS = (1, 6, 11)  # control boards number their chain slots from 1, 6 or 11


def _rpc_boards(host: str, data: Mapping[str, Any], scale: float) -> tuple[HashBoard, ...]:
    for offset in _CHAIN_OFFSETS:
        boards: list[HashBoard] = []
        for slot in range(offset, offset + 4):
            chips = opt_int(host, data, f"chain_acn{slot}")
            chain_rate = scaled_rate(host, data, f"chain_rate{slot}", scale)
            if not chips and chain_rate is None:
                continue
            pcb = data.get(f"temp_pcb{slot}", data.get(f"temp_out_pcb_{slot}"))
            chip = data.get(f"temp_chip{slot}", data.get(f"temp_out_chip_{slot}"))
            board_temps = sensor_temps(host, pcb, f"temp_pcb{slot}")
            chip_temps = sensor_temps(host, chip, f"temp_chip{slot}")
            boards.append(
                HashBoard(
                    index=slot - offset,
                    hashrate_hs=chain_rate,
                    chips=chips,
                    board_temp_c=max(board_temps) if board_temps else None,
                    chip_temp_c=max(chip_temps) if chip_temps else None,
                )
            )
        if boards:
            return tuple(boards)
    return ()


def _rpc_fans(host: str, data: Mapping[str, Any]) -> tuple[int, ...]:
    present = [slot for slot in range(1, 9) if f"fan{slot}" in data]
    if not present:
        return ()
    # Like chains, fan slots may start past 1; the first spinning one marks the start.
    start = next((s for s in present if opt_int(host, data, f"fan{s}")), present[0])
    count = min(opt_int(host, data, "fan_num") or len(present), 8)
    fans = (opt_int(host, data, f"fan{s}") for s in range(start, start + count))
    return tuple(rpm for rpm in fans if rpm is not None)


def parse_stats(host: str, reply: Any) -> StatsReading:
    """RPC ``stats``: STATS[0] is a header with ``Type``, STATS[1] holds the data."""
    items = section(host, reply, "STATS")
    if len(items) < 2:
        raise ProtocolError(host, f"STATS has {len(items)} entries, expected header and data")
    header = as_dict(host, items[0], "STATS[0]")
    data = as_dict(host, items[1], "STATS[1]")
    scale = rate_multiplier(host, data.get("rate_unit"))
    return StatsReading(
        model=model_from_type(opt_str(host, header, "Type")),
        elapsed_s=opt_float(host, data, "Elapsed"),
        hashrate_5s_hs=scaled_rate(host, data, "GHS 5s", 1e9),
        hashrate_avg_hs=scaled_rate(host, data, "GHS av", 1e9),
        nameplate_hs=scaled_rate(host, data, "total_rateideal", scale),
        fans_rpm=_rpc_fans(host, data),
        boards=_rpc_boards(host, data, scale),
    )


def parse_pools(host: str, reply: Any) -> tuple[PoolStatus, ...]:
    pools: list[PoolStatus] = []
    for n, raw in enumerate(section(host, reply, "POOLS")):
        item = as_dict(host, raw, f"POOLS[{n}]")
        pools.append(
            PoolStatus(
                url=opt_str(host, item, "URL") or "",
                user=opt_str(host, item, "User") or "",
                alive=opt_str(host, item, "Status") == "Alive",
                active=bool(opt_flag(host, item, "Stratum Active")),
                priority=opt_int(host, item, "Priority"),
            )
        )
    return tuple(pools)

"""Pure parsers for stock Antminer replies: decoded JSON in, frozen dataclasses out.

RPC (4028) replies arrive already envelope-checked by :mod:`drivers.cgminer`;
web CGI replies are checked here (their STATUS is an object, not a list).
Hashrates leave in H/s, temperatures in °C, times in seconds. Every parser
raises :class:`ProtocolError` for a reply of the wrong shape and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drivers.antminer._values import (
    as_dict,
    as_list,
    opt_bool,
    opt_float,
    opt_int,
    opt_str,
    rate_multiplier,
    sensor_temps,
)
from drivers.errors import DeviceStatusError, ProtocolError, WriteRejected
from drivers.types import HashBoard

__all__ = [
    "MinerConf",
    "PoolConf",
    "PoolStatus",
    "StatsReading",
    "StatusItem",
    "SummaryReading",
    "SystemInfo",
    "VersionInfo",
    "WorkMode",
    "model_from_type",
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


class WorkMode:
    """Values of ``miner-mode`` / ``bitmain-work-mode``. 2 differs by model, so it is not named."""

    NORMAL = 0
    SLEEP = 1
    LOW = 3


@dataclass(frozen=True, slots=True)
class VersionInfo:
    model: str | None
    api: str | None
    miner_version: str | None
    compile_time: str | None


@dataclass(frozen=True, slots=True)
class SummaryReading:
    elapsed_s: float | None
    hashrate_5s_hs: float | None
    hashrate_avg_hs: float | None
    hashrate_30m_hs: float | None
    nameplate_hs: float | None = None
    model: str | None = None
    firmware: str | None = None
    problems: tuple[StatusItem, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusItem:
    """One entry of summary.cgi's ``status`` list that is not ``"s"`` (success)."""

    kind: str
    status: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class StatsReading:
    model: str | None
    elapsed_s: float | None
    hashrate_5s_hs: float | None
    hashrate_avg_hs: float | None
    nameplate_hs: float | None
    fans_rpm: tuple[int, ...]
    boards: tuple[HashBoard, ...]
    work_mode: int | None = None  # only the web stats.cgi reports it


@dataclass(frozen=True, slots=True)
class PoolStatus:
    url: str
    user: str
    alive: bool
    active: bool
    priority: int | None


@dataclass(frozen=True, slots=True)
class SystemInfo:
    model: str | None
    mac: str | None
    hostname: str | None
    serial: str | None
    firmware: str | None
    ip: str | None


@dataclass(frozen=True, slots=True)
class PoolConf:
    url: str
    user: str
    password: str


@dataclass(frozen=True, slots=True)
class MinerConf:
    """The writable part of get_miner_conf: what set_miner_conf must be sent back in full."""

    pools: tuple[PoolConf, ...]
    fan_ctrl: bool
    fan_pwm: str
    freq_level: str
    work_mode: int | None  # None where the firmware omits bitmain-work-mode (S21 EXP Hydro)

    @property
    def has_pools(self) -> bool:
        return any(pool.url.strip() for pool in self.pools)

    def write_body(self, mode: int) -> dict[str, Any]:
        """The browser's full body for ``mode``, with both mode keys (stock firmware quirk b)."""
        pools = [{"url": p.url, "user": p.user, "pass": p.password} for p in self.pools[:3]]
        pools += [{"url": "", "user": "", "pass": ""}] * (3 - len(pools))
        return {
            "bitmain-fan-ctrl": self.fan_ctrl,
            "bitmain-fan-pwm": self.fan_pwm,
            "freq-level": self.freq_level,
            "miner-mode": mode,
            "bitmain-work-mode": str(mode),
            "pools": pools,
        }


_HYDRO_ABBREVIATION = re.compile(r"\bHyd\.?$", re.IGNORECASE)


def model_from_type(raw: str | None) -> str | None:
    """The model name from a firmware ``Type``.

    ``"Antminer S19j Pro (xp)"`` -> ``"S19j Pro"``; ``"Antminer S21 Hyd."`` -> ``"S21 Hydro"``.
    """
    if not raw:
        return None
    name = raw.split(" (", 1)[0].strip()
    if name.lower().startswith("antminer "):
        name = name[len("antminer ") :].strip()
    return _HYDRO_ABBREVIATION.sub("Hydro", name) or None


def _section(host: str, reply: Any, key: str) -> list[Any]:
    return as_list(host, as_dict(host, reply, "reply").get(key), key)


def _first(host: str, reply: Any, key: str) -> Mapping[str, Any]:
    items = _section(host, reply, key)
    if not items:
        raise ProtocolError(host, f"{key} is empty")
    return as_dict(host, items[0], f"{key}[0]")


def _rate(host: str, obj: Mapping[str, Any], key: str, scale: float) -> float | None:
    value = opt_float(host, obj, key)
    return None if value is None else value * scale


# RPC 4028 -------------------------------------------------------------------


def parse_version(host: str, reply: Any) -> VersionInfo:
    item = _first(host, reply, "VERSION")
    return VersionInfo(
        model=model_from_type(opt_str(host, item, "Type")),
        api=opt_str(host, item, "API"),
        miner_version=opt_str(host, item, "Miner"),
        compile_time=opt_str(host, item, "CompileTime"),
    )


def parse_summary(host: str, reply: Any) -> SummaryReading:
    item = _first(host, reply, "SUMMARY")
    return SummaryReading(
        elapsed_s=opt_float(host, item, "Elapsed"),
        hashrate_5s_hs=_rate(host, item, "GHS 5s", 1e9),
        hashrate_avg_hs=_rate(host, item, "GHS av", 1e9),
        hashrate_30m_hs=_rate(host, item, "GHS 30m", 1e9),
    )


_CHAIN_OFFSETS = (1, 6, 11)  # control boards number their chain slots from 1, 6 or 11


def _rpc_boards(host: str, data: Mapping[str, Any], scale: float) -> tuple[HashBoard, ...]:
    for offset in _CHAIN_OFFSETS:
        boards: list[HashBoard] = []
        for slot in range(offset, offset + 4):
            chips = opt_int(host, data, f"chain_acn{slot}")
            rate = _rate(host, data, f"chain_rate{slot}", scale)
            if not chips and rate is None:
                continue
            pcb = data.get(f"temp_pcb{slot}", data.get(f"temp_out_pcb_{slot}"))
            chip = data.get(f"temp_chip{slot}", data.get(f"temp_out_chip_{slot}"))
            board_temps = sensor_temps(host, pcb, f"temp_pcb{slot}")
            chip_temps = sensor_temps(host, chip, f"temp_chip{slot}")
            boards.append(
                HashBoard(
                    index=slot - offset,
                    hashrate_hs=rate,
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
    items = _section(host, reply, "STATS")
    if len(items) < 2:
        raise ProtocolError(host, f"STATS has {len(items)} entries, expected header and data")
    header = as_dict(host, items[0], "STATS[0]")
    data = as_dict(host, items[1], "STATS[1]")
    scale = rate_multiplier(host, data.get("rate_unit"))
    return StatsReading(
        model=model_from_type(opt_str(host, header, "Type")),
        elapsed_s=opt_float(host, data, "Elapsed"),
        hashrate_5s_hs=_rate(host, data, "GHS 5s", 1e9),
        hashrate_avg_hs=_rate(host, data, "GHS av", 1e9),
        nameplate_hs=_rate(host, data, "total_rateideal", scale),
        fans_rpm=_rpc_fans(host, data),
        boards=_rpc_boards(host, data, scale),
    )


def parse_pools(host: str, reply: Any) -> tuple[PoolStatus, ...]:
    pools: list[PoolStatus] = []
    for n, raw in enumerate(_section(host, reply, "POOLS")):
        item = as_dict(host, raw, f"POOLS[{n}]")
        pools.append(
            PoolStatus(
                url=opt_str(host, item, "URL") or "",
                user=opt_str(host, item, "User") or "",
                alive=opt_str(host, item, "Status") == "Alive",
                active=bool(opt_bool(host, item, "Stratum Active")),
                priority=opt_int(host, item, "Priority"),
            )
        )
    return tuple(pools)


# Web CGI, port 80 -------------------------------------------------------------


def _check_cgi_status(host: str, reply: Any, what: str) -> Mapping[str, Any]:
    """The CGI envelope: ``STATUS`` is one object whose ``STATUS`` must be ``"S"``."""
    body = as_dict(host, reply, what)
    status = body.get("STATUS")
    if status is None:
        return body  # older firmware sends no envelope at all
    status = as_dict(host, status, f"{what} STATUS")
    flag = status.get("STATUS")
    if flag != "S":
        msg = opt_str(host, status, "Msg") or ""
        raise DeviceStatusError(
            host, f"{what}: device answered {flag!r} {msg!r}", device_code=None, device_msg=msg
        )
    return body


def _info(host: str, body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    info = body.get("INFO")
    if info is None:
        return None, None
    info = as_dict(host, info, "INFO")
    return model_from_type(opt_str(host, info, "type")), opt_str(host, info, "miner_version")


def _status_items(host: str, item: Mapping[str, Any]) -> tuple[StatusItem, ...]:
    raw_items = item.get("status")
    if raw_items is None:
        return ()
    problems: list[StatusItem] = []
    for n, raw in enumerate(as_list(host, raw_items, "status")):
        entry = as_dict(host, raw, f"status[{n}]")
        flag = opt_str(host, entry, "status") or ""
        if flag != "s":
            problems.append(
                StatusItem(
                    kind=opt_str(host, entry, "type") or "unknown",
                    status=flag,
                    code=opt_str(host, entry, "code") or "",
                    message=opt_str(host, entry, "msg") or "",
                )
            )
    return tuple(problems)


def parse_web_summary(host: str, reply: Any) -> SummaryReading:
    """summary.cgi: rates in ``rate_unit``, plus the health ``status`` list."""
    body = _check_cgi_status(host, reply, "summary.cgi")
    model, firmware = _info(host, body)
    item = _first(host, body, "SUMMARY")
    scale = rate_multiplier(host, item.get("rate_unit"))
    return SummaryReading(
        elapsed_s=opt_float(host, item, "elapsed"),
        hashrate_5s_hs=_rate(host, item, "rate_5s", scale),
        hashrate_avg_hs=_rate(host, item, "rate_avg", scale),
        hashrate_30m_hs=_rate(host, item, "rate_30m", scale),
        nameplate_hs=_rate(host, item, "rate_ideal", scale),
        model=model,
        firmware=firmware,
        problems=_status_items(host, item),
    )


def _web_board(host: str, raw: Any, n: int, scale: float) -> HashBoard:
    chain = as_dict(host, raw, f"chain[{n}]")
    board_temps = sensor_temps(host, chain.get("temp_pcb"), "temp_pcb")
    chip_temps = sensor_temps(host, chain.get("temp_chip"), "temp_chip")
    index = opt_int(host, chain, "index")
    return HashBoard(
        index=n if index is None else index,
        hashrate_hs=_rate(host, chain, "rate_real", scale),
        chips=opt_int(host, chain, "asic_num"),
        board_temp_c=max(board_temps) if board_temps else None,
        chip_temp_c=max(chip_temps) if chip_temps else None,
        serial=opt_str(host, chain, "sn") or None,
    )


def parse_web_stats(host: str, reply: Any) -> StatsReading:
    """stats.cgi: one reply with rates, fans, chains and the work mode."""
    body = _check_cgi_status(host, reply, "stats.cgi")
    model, _ = _info(host, body)
    item = _first(host, body, "STATS")
    scale = rate_multiplier(host, item.get("rate_unit"))
    fans_raw = item.get("fan")
    fans: list[int] = []
    for rpm in as_list(host, [] if fans_raw is None else fans_raw, "fan"):
        if isinstance(rpm, bool) or not isinstance(rpm, int | float):
            raise ProtocolError(host, f"fan holds {type(rpm).__name__}, expected numbers")
        fans.append(int(rpm))
    chains = as_list(host, item.get("chain", []), "chain")
    return StatsReading(
        model=model,
        elapsed_s=opt_float(host, item, "elapsed"),
        hashrate_5s_hs=_rate(host, item, "rate_5s", scale),
        hashrate_avg_hs=_rate(host, item, "rate_avg", scale),
        nameplate_hs=_rate(host, item, "rate_ideal", scale),
        fans_rpm=tuple(fans),
        boards=tuple(_web_board(host, raw, n, scale) for n, raw in enumerate(chains)),
        work_mode=opt_int(host, item, "miner-mode"),
    )


def parse_system_info(host: str, reply: Any) -> SystemInfo:
    body = as_dict(host, reply, "get_system_info.cgi")
    serial = opt_str(host, body, "serinum") or opt_str(host, body, "serial_no")
    return SystemInfo(
        model=model_from_type(opt_str(host, body, "minertype")),
        mac=opt_str(host, body, "macaddr") or None,
        hostname=opt_str(host, body, "hostname") or None,
        serial=serial or None,
        firmware=opt_str(host, body, "system_filesystem_version") or None,
        ip=opt_str(host, body, "ipaddress") or None,
    )


def parse_miner_conf(host: str, reply: Any) -> MinerConf:
    body = as_dict(host, reply, "get_miner_conf.cgi")
    pools: list[PoolConf] = []
    for n, raw in enumerate(as_list(host, body.get("pools"), "pools")):
        pool = as_dict(host, raw, f"pools[{n}]")
        pools.append(
            PoolConf(
                url=opt_str(host, pool, "url") or "",
                user=opt_str(host, pool, "user") or "",
                password=opt_str(host, pool, "pass") or "",
            )
        )
    fan_ctrl = opt_bool(host, body, "bitmain-fan-ctrl")
    return MinerConf(
        pools=tuple(pools),
        fan_ctrl=bool(fan_ctrl),
        fan_pwm=opt_str(host, body, "bitmain-fan-pwm") or "100",
        freq_level=opt_str(host, body, "bitmain-freq-level") or "100",
        work_mode=opt_int(host, body, "bitmain-work-mode"),
    )


def parse_set_reply(host: str, reply: Any) -> None:
    """set_miner_conf answers ``{"stats":"success","code":"M000"}``; anything else is a refusal."""
    body = as_dict(host, reply, "set_miner_conf.cgi")
    code = opt_str(host, body, "code")
    if body.get("stats") == "success" or code == "M000":
        return
    msg = opt_str(host, body, "msg") or ""
    raise WriteRejected(host, f"set_miner_conf refused: code={code!r} {msg!r}")

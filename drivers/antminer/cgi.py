"""Parsers for the stock Antminer web CGI API (port 80): decoded JSON in, records out.

Unlike the RPC, these replies carry their STATUS as one object, not a list, and
older firmware sends none at all. Every parser raises :class:`ProtocolError` for a
reply of the wrong shape (or :class:`DeviceStatusError` for a failure status).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drivers.antminer.records import (
    MinerConf,
    PoolConf,
    StatsReading,
    StatusItem,
    SummaryReading,
    SystemInfo,
    model_from_type,
)
from drivers.cgminer.values import (
    as_dict,
    as_list,
    first,
    opt_flag,
    opt_float,
    opt_int,
    opt_str,
    rate_multiplier,
    scaled_rate,
    sensor_temps,
)
from drivers.errors import DeviceStatusError, ProtocolError, WriteRejected
from drivers.types import HashBoard

__all__ = [
    "parse_miner_conf",
    "parse_set_reply",
    "parse_system_info",
    "parse_web_stats",
    "parse_web_summary",
]


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
    item = first(host, body, "SUMMARY")
    scale = rate_multiplier(host, item.get("rate_unit"))
    return SummaryReading(
        elapsed_s=opt_float(host, item, "elapsed"),
        hashrate_5s_hs=scaled_rate(host, item, "rate_5s", scale),
        hashrate_avg_hs=scaled_rate(host, item, "rate_avg", scale),
        hashrate_30m_hs=scaled_rate(host, item, "rate_30m", scale),
        nameplate_hs=scaled_rate(host, item, "rate_ideal", scale),
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
        hashrate_hs=scaled_rate(host, chain, "rate_real", scale),
        chips=opt_int(host, chain, "asic_num"),
        board_temp_c=max(board_temps) if board_temps else None,
        chip_temp_c=max(chip_temps) if chip_temps else None,
        serial=opt_str(host, chain, "sn") or None,
    )


def parse_web_stats(host: str, reply: Any) -> StatsReading:
    """stats.cgi: one reply with rates, fans, chains and the work mode."""
    body = _check_cgi_status(host, reply, "stats.cgi")
    model, _ = _info(host, body)
    item = first(host, body, "STATS")
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
        hashrate_5s_hs=scaled_rate(host, item, "rate_5s", scale),
        hashrate_avg_hs=scaled_rate(host, item, "rate_avg", scale),
        nameplate_hs=scaled_rate(host, item, "rate_ideal", scale),
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
    fan_ctrl = opt_flag(host, body, "bitmain-fan-ctrl")
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

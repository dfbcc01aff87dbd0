"""Pure parsers for Whatsminer API v2 (and 1.4) replies on 4028.

Replies arrive envelope-checked by :mod:`drivers.cgminer`. Two shapes: the
cgminer list form (summary, devs/edevs, devdetails, pools) and Whatsminer's flat
form with a ``Msg`` object (get_version, status, get_psu, get_miner_info,
get_error_code). API 1.4 firmware spells some keys differently (``btmineroff``,
``"Firmware Version"`` with quotes), handled here. Rates are MH/s on the wire,
H/s out. Every parser raises :class:`ProtocolError` for a wrong shape and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drivers.cgminer.values import (
    as_dict,
    as_list,
    first,
    opt_flag,
    opt_float,
    opt_int,
    opt_str,
    parse_devdetails,
    parse_pools,
    scaled_rate,
    section,
)
from drivers.identity import UnitIdentity
from drivers.types import DeviceError, HashBoard
from drivers.whatsminer.records import MinerSetting, Reading, power_mode_of

__all__ = [
    "parse_devdetails",
    "parse_devs",
    "parse_error_code",
    "parse_miner_info",
    "parse_pools",
    "parse_psu",
    "parse_status",
    "parse_summary",
    "parse_version",
]

_MHS = 1e6
_GHS = 1e9
# Most to least current: the 1-minute rate is what pyasic reports; "MHS av" is since start.
_RATE_KEYS = ("MHS 1m", "MHS 5s", "HS RT", "MHS av")


def _msg(host: str, reply: Any, command: str) -> Mapping[str, Any]:
    msg = as_dict(host, reply, command).get("Msg")
    return as_dict(host, msg, f"{command} Msg")


def _rate(host: str, item: Mapping[str, Any]) -> float | None:
    for key in _RATE_KEYS:
        rate = scaled_rate(host, item, key, _MHS)
        if rate is not None:
            return rate
    return None


def _firmware(text: str | None) -> str | None:
    # API 1.4 quotes it: "'20210322.22.REL'".
    return text.strip().strip("'\"") or None if text else None


def parse_summary(host: str, reply: Any) -> Reading:
    item = first(host, reply, "SUMMARY")
    power = opt_float(host, item, "Power")
    if power is None or power < 0:  # -1: the PSU is not reporting
        power = opt_float(host, item, "Power_RT")
    fans = tuple(
        rpm for rpm in (opt_int(host, item, k) for k in ("Fan Speed In", "Fan Speed Out")) if rpm
    )
    errors: list[DeviceError] = []
    count = opt_int(host, item, "Error Code Count") or 0
    for n in range(min(count, 64)):
        code = opt_str(host, item, f"Error Code {n}")
        if code:
            errors.append(DeviceError(code=code))
    return Reading(
        hashrate_hs=_rate(host, item),
        nameplate_hs=scaled_rate(host, item, "Factory GHS", _GHS),
        power_w=power if power is not None and power >= 0 else None,
        power_limit_w=opt_float(host, item, "Power Limit"),
        power_mode=power_mode_of(opt_str(host, item, "Power Mode")),
        elapsed_s=opt_float(host, item, "Elapsed"),
        fans_rpm=fans,
        env_temp_c=opt_float(host, item, "Env Temp"),
        errors=tuple(errors),
    )


def parse_devs(host: str, reply: Any) -> tuple[tuple[HashBoard, ...], bool | None]:
    """``devs`` or ``edevs``: the boards, and whether every board finished its up-frequency ramp."""
    boards: list[HashBoard] = []
    ramps: list[bool] = []
    for n, raw in enumerate(section(host, reply, "DEVS")):
        item = as_dict(host, raw, f"DEVS[{n}]")
        index = next(
            (v for v in (opt_int(host, item, k) for k in ("ASC", "Slot", "ID")) if v is not None),
            n,
        )
        chip = opt_float(host, item, "Chip Temp Max")
        if chip is None:
            chip = opt_float(host, item, "Chip Temp Avg")
        boards.append(
            HashBoard(
                index=index,
                hashrate_hs=_rate(host, item),
                chips=opt_int(host, item, "Effective Chips"),
                board_temp_c=opt_float(host, item, "Temperature"),
                chip_temp_c=chip,
                serial=opt_str(host, item, "PCB SN"),
            )
        )
        done = opt_flag(host, item, "Upfreq Complete")
        if done is not None:
            ramps.append(done)
    return tuple(boards), (all(ramps) if ramps else None)


def parse_version(host: str, reply: Any) -> UnitIdentity:
    msg = _msg(host, reply, "get_version")
    api = opt_str(host, msg, "api_ver") or opt_str(host, msg, "rpc_ver")
    return UnitIdentity(
        model=None, firmware=_firmware(opt_str(host, msg, "fw_ver")), api_version=api
    )


def parse_status(host: str, reply: Any) -> tuple[MinerSetting, str | None]:
    """The setting read-back, and the firmware version the status names (if any)."""
    msg = _msg(host, reply, "status")
    off = opt_flag(host, msg, "mineroff")
    if off is None:
        off = opt_flag(host, msg, "btmineroff")  # API 1.4
    firmware = opt_str(host, msg, "FirmwareVersion") or opt_str(host, msg, "Firmware Version")
    setting = MinerSetting(
        mining_off=off,
        power_limit_w=opt_float(host, msg, "power_limit_set"),
        power_mode=power_mode_of(opt_str(host, msg, "power_mode")),
    )
    return setting, _firmware(firmware)


def parse_psu(host: str, reply: Any) -> tuple[str | None, int | None]:
    """The PSU model and its fan speed (RPM)."""
    msg = _msg(host, reply, "get_psu")
    return opt_str(host, msg, "model") or opt_str(host, msg, "name"), opt_int(
        host, msg, "fan_speed"
    )


def parse_miner_info(host: str, reply: Any) -> UnitIdentity:
    msg = _msg(host, reply, "get_miner_info")
    return UnitIdentity(
        model=None,
        serial=opt_str(host, msg, "minersn"),
        mac=opt_str(host, msg, "mac"),
        hostname=opt_str(host, msg, "hostname"),
    )


def parse_error_code(host: str, reply: Any) -> tuple[DeviceError, ...]:
    """``{"error_code":[{"110":"2024-06-15 09:15:00"}, …]}``, optionally with a ``reason``."""
    entries = as_list(host, _msg(host, reply, "get_error_code").get("error_code", []), "error_code")
    errors: list[DeviceError] = []
    for n, raw in enumerate(entries):
        if isinstance(raw, str | int) and not isinstance(raw, bool):
            errors.append(DeviceError(code=str(raw)))
            continue
        entry = as_dict(host, raw, f"error_code[{n}]")
        reason = opt_str(host, entry, "reason") or ""
        for key, value in entry.items():
            if key != "reason":
                when = value if isinstance(value, str) else ""
                errors.append(DeviceError(code=str(key), message=reason or when))
    return tuple(errors)

"""Pure parsers for Whatsminer API v3 frame payloads (4433).

A reply is ``{"code":0,"when":…,"msg":{…},"desc":…}``; a non-zero ``code`` comes
with ``msg`` as an error string, which :func:`check_reply` turns into a typed
error. Rates are TH/s on the wire, H/s out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drivers.cgminer.values import (
    as_dict,
    as_list,
    opt_flag,
    opt_float,
    opt_int,
    opt_str,
    pool_list,
    scaled_rate,
)
from drivers.errors import (
    AuthError,
    DeviceStatusError,
    ProtocolError,
    UnsupportedError,
    WritesDisabled,
)
from drivers.identity import UnitIdentity
from drivers.types import DeviceError, HashBoard
from drivers.whatsminer.records import MinerSetting, Reading, power_mode_of

__all__ = [
    "WRITES_DISABLED_HELP",
    "check_reply",
    "parse_device_info",
    "parse_edevs",
    "parse_miner_setting",
    "parse_pools",
    "parse_summary",
]

_THS = 1e12
WRITES_DISABLED_HELP = (
    "writes are disabled on this Whatsminer: in WhatsminerTool change the admin "
    "password from its default and turn the API switch on, then retry"
)
_PERMISSION_WORDS = ("permission", "can't access", "cannot access", "api switch", "apiswitch")
_TOKEN_WORDS = ("token", "auth", "password", "salt", "sign")
_UNKNOWN_WORDS = ("invalid cmd", "invalid command", "unknown", "not support", "unsupported")


def check_reply(host: str, command: str, reply: Any) -> Mapping[str, Any]:
    """The reply object when ``code`` is 0; the device's refusal as a typed error otherwise."""
    obj = as_dict(host, reply, command)
    code = obj.get("code")
    if code == 0:
        return obj
    if not isinstance(code, int) or isinstance(code, bool):
        raise ProtocolError(host, f"{command}: reply has no usable code: {code!r:.40}")
    msg = obj.get("msg")
    text = msg if isinstance(msg, str) else ""
    lowered = text.lower()
    detail = f"{command}: device answered code={code} {text[:120]!r}"
    if any(word in lowered for word in _PERMISSION_WORDS):
        raise WritesDisabled(host, f"{detail}; {WRITES_DISABLED_HELP}")
    if any(word in lowered for word in _TOKEN_WORDS):
        raise AuthError(host, detail)
    if any(word in lowered for word in _UNKNOWN_WORDS):
        raise UnsupportedError(host, detail)
    raise DeviceStatusError(host, detail, device_code=code, device_msg=text)


def _msg(host: str, reply: Any, key: str | None = None) -> Mapping[str, Any]:
    msg = as_dict(host, as_dict(host, reply, "reply").get("msg"), "msg")
    return msg if key is None else as_dict(host, msg.get(key), f"msg.{key}")


def _errors(host: str, raw: Any) -> tuple[DeviceError, ...]:
    if raw is None or raw == "":
        return ()
    if isinstance(raw, str):  # "btminer process is down err" while stopped
        return (DeviceError(code="status", message=raw),)
    errors: list[DeviceError] = []
    for n, entry in enumerate(as_list(host, raw, "error-code")):
        item = as_dict(host, entry, f"error-code[{n}]")
        reason = opt_str(host, item, "reason") or ""
        for key, value in item.items():
            if key != "reason":
                errors.append(DeviceError(code=str(key), message=reason or str(value)))
    return tuple(errors)


def parse_device_info(
    host: str, reply: Mapping[str, Any]
) -> tuple[UnitIdentity, MinerSetting, str | None, tuple[DeviceError, ...]]:
    """The identity, the service state (``working``), the token salt, and the error list.

    Any part may be missing when the request asked for one section (``param``).
    """
    msg = _msg(host, reply)
    miner = as_dict(host, msg.get("miner", {}), "msg.miner")
    network = as_dict(host, msg.get("network", {}), "msg.network")
    system = as_dict(host, msg.get("system", {}), "msg.system")
    working = opt_flag(host, miner, "working")
    identity = UnitIdentity(
        model=opt_str(host, miner, "type"),
        firmware=opt_str(host, system, "fwversion"),
        api_version=opt_str(host, system, "api"),
        serial=opt_str(host, miner, "miner-sn"),
        mac=opt_str(host, network, "mac"),
        hostname=opt_str(host, network, "hostname"),
    )
    setting = MinerSetting(mining_off=None if working is None else not working)
    return identity, setting, opt_str(host, msg, "salt"), _errors(host, msg.get("error-code"))


def parse_summary(host: str, reply: Mapping[str, Any]) -> Reading:
    item = _msg(host, reply, "summary")
    rate = scaled_rate(host, item, "hash-realtime", _THS)
    if rate is None:
        rate = scaled_rate(host, item, "hash-1min", _THS)
    fans = tuple(
        rpm for rpm in (opt_int(host, item, k) for k in ("fan-speed-in", "fan-speed-out")) if rpm
    )
    temps_raw = item.get("board-temperature", [])
    board_temps = tuple(
        float(t)
        for t in as_list(host, temps_raw, "board-temperature")
        if isinstance(t, int | float) and not isinstance(t, bool) and t
    )
    done = opt_flag(host, item, "up-freq-finish")
    return Reading(
        hashrate_hs=rate,
        nameplate_hs=scaled_rate(host, item, "factory-hash", _THS),
        power_w=opt_float(host, item, "power-realtime"),
        power_limit_w=opt_float(host, item, "power-limit"),
        power_mode=None,
        elapsed_s=opt_float(host, item, "elapsed"),
        fans_rpm=fans,
        env_temp_c=opt_float(host, item, "environment-temperature"),
        board_temps_c=board_temps,
        ramp_done=done,
    )


def parse_edevs(host: str, reply: Mapping[str, Any]) -> tuple[HashBoard, ...]:
    boards: list[HashBoard] = []
    for n, raw in enumerate(as_list(host, _msg(host, reply).get("edevs"), "msg.edevs")):
        item = as_dict(host, raw, f"edevs[{n}]")
        rate = scaled_rate(host, item, "hash-realtime", _THS)
        if rate is None:
            rate = scaled_rate(host, item, "hash-average", _THS)
        index = opt_int(host, item, "id")
        boards.append(
            HashBoard(
                index=n if index is None else index,
                hashrate_hs=rate,
                chips=opt_int(host, item, "effective-chips"),
                chip_temp_c=opt_float(host, item, "chip-temp-max"),
            )
        )
    return tuple(boards)


def parse_miner_setting(host: str, reply: Mapping[str, Any]) -> MinerSetting:
    msg = _msg(host, reply)
    return MinerSetting(
        mining_off=None,
        power_limit_w=opt_float(host, msg, "power-limit"),
        power_mode=power_mode_of(opt_str(host, msg, "power-mode")),
    )


def parse_pools(host: str, reply: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    items = as_list(host, _msg(host, reply).get("pools"), "msg.pools")
    return pool_list(host, items, "pools", url_key="url", user_key="account")

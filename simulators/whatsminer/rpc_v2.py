"""Whatsminer API v2 on 4028: dispatch, the token + AES write scheme, and the writes.

Write path (docs/protocols.md §2.1): ``get_token`` issues time/salt/newsalt; the client
sends ``{"enc":1,"data":base64(AES-256-ECB(json))}`` keyed by SHA-256 of the
password's md5-crypt field; the reply is ``{"enc":"<base64>"}`` the same way. Refusals
before the command is known (API switch off, bad base64, bad token) come back in
clear, as on real units.

Error codes: 14 invalid command, 23 invalid JSON, 45 writes disabled ("can't access
write cmd", the text pyasic matches), 131 OK, 132 command error (bad value), 134
token issued, 135 token check failed (also a wrong password: the data does not
decrypt to JSON), 136 too many live tokens, 137 base64 decode error.
"""

from __future__ import annotations

import json
from typing import Any

from simulators.cgminer_rpc import Encoder, RpcRequest
from simulators.device import PoolEntry
from simulators.whatsminer.crypto import DecryptError, aes_key, decrypt_json, encrypt_json
from simulators.whatsminer.state import PowerMode, WhatsminerQuirk
from simulators.whatsminer.unit import WhatsminerUnit
from simulators.whatsminer.v2_reads import READS, flat_error, flat_ok, miner_info

__all__ = ["NO_REPLY", "WRITE_COMMANDS", "v2_encoder", "v2_reply"]

# Returned by a command that real firmware applies without answering.
NO_REPLY: dict[str, Any] = {}

# What a v3 unit still answers on 4028, so that pyasic's detection finds it.
_LEGACY_COMMANDS = frozenset({"devdetails", "version", "get_version"})
_OK = "API command OK"
_NO_ACCESS = "can't access write cmd"

_ACCEPTED_NOOPS = frozenset(
    {
        "set_target_freq", "adjust_upfreq_speed", "set_temp_offset", "set_fan_zero_speed",
        "set_hostname", "net_config", "pre_power_on", "enable_web_pools",
        "disable_web_pools", "factory_reset",
    }
)  # fmt: skip
WRITE_COMMANDS = _ACCEPTED_NOOPS | frozenset(
    {
        "power_off", "power_on", "restart_btminer", "reboot", "set_low_power",
        "set_normal_power", "set_high_power", "set_power_pct", "set_power_pct_v2",
        "adjust_power_limit", "set_led", "update_pools", "update_pwd",
        "enable_btminer_fast_boot", "disable_btminer_fast_boot", "set_poweroff_cool",
    }
)  # fmt: skip
_POWER_MODES = {
    "set_low_power": PowerMode.LOW,
    "set_normal_power": PowerMode.NORMAL,
    "set_high_power": PowerMode.HIGH,
}


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _write(dev: WhatsminerUnit, cmd: str, p: dict[str, Any], when: float) -> dict[str, Any]:
    if dev.ignores_writes() and cmd in WRITE_COMMANDS:
        return flat_ok(_OK, when)  # acknowledged, and nothing changes
    c = dev.control
    if cmd == "power_off":
        c.power_off()
    elif cmd == "power_on":
        c.power_on()
    elif cmd == "restart_btminer":
        c.restart_mining()
    elif cmd == "reboot":
        dev.reboot()
    elif cmd in _POWER_MODES:
        c.set_power_mode(_POWER_MODES[cmd])
        if WhatsminerQuirk.POWER_MODE_NO_REPLY in dev.options.quirks:
            return NO_REPLY
    elif cmd in {"set_power_pct", "set_power_pct_v2"}:
        percent = _int(p.get("percent"))
        problem = "invalid percent" if percent is None else c.set_percent(percent)
        if problem:
            return flat_error(132, problem, when)
    elif cmd == "adjust_power_limit":
        watts = _int(p.get("power_limit"))
        problem = "invalid power_limit" if watts is None else c.set_power_limit(watts)
        if problem:
            return flat_error(132, problem, when)
    elif cmd == "set_led":
        c.led_manual = p.get("param") != "auto"
    elif cmd == "update_pools":
        c.pools = tuple(
            PoolEntry(
                str(p.get(f"pool{n}") or ""),
                str(p.get(f"worker{n}") or ""),
                str(p.get(f"passwd{n}") or ""),
            )
            for n in (1, 2, 3)
        )
    elif cmd == "update_pwd":
        old, new = p.get("old"), p.get("new")
        if old != dev.tokens.password or not isinstance(new, str) or not 0 < len(new) <= 8:
            return flat_error(132, "invalid password", when)
        dev.tokens.set_password(new)
    elif cmd in {"enable_btminer_fast_boot", "disable_btminer_fast_boot"}:
        c.fast_boot = cmd.startswith("enable")
    elif cmd == "set_poweroff_cool":
        c.poweroff_cool = _int(p.get("poweroff_cool")) == 1
    elif cmd not in _ACCEPTED_NOOPS:
        return flat_error(14, "invalid cmd", when)
    return flat_ok(_OK, when)


def _privileged(dev: WhatsminerUnit, raw: dict[str, Any], when: float) -> dict[str, Any]:
    if not dev.options.api_writes:
        return flat_error(45, _NO_ACCESS, when)
    data = raw.get("data")
    if not isinstance(data, str):
        return flat_error(137, "base64 decode error", when)
    key = aes_key(dev.tokens.key_field)
    try:
        command = decrypt_json(key, data)
    except DecryptError as exc:
        if exc.stage == "base64":
            return flat_error(137, "base64 decode error", when)
        return flat_error(135, "check token error", when)
    if not dev.tokens.valid(command.get("token")):
        return flat_error(135, "check token error", when)
    cmd = str(command.get("cmd") or command.get("command") or "").strip()
    reply = _write(dev, cmd, command, when)
    if reply is NO_REPLY:
        return NO_REPLY
    return {"enc": encrypt_json(key, reply)}


def _single(dev: WhatsminerUnit, command: str, raw: dict[str, Any], when: float) -> dict[str, Any]:
    if dev.options.api == "v3" and command not in _LEGACY_COMMANDS:
        return flat_error(14, "invalid cmd", when)
    if command == "get_token":
        # Issued even with writes disabled: the refusal comes with the write itself.
        token = dev.tokens.issue(when)
        if token is None:
            return flat_error(136, "over max token", when)
        return flat_ok(
            {"time": token.time, "salt": token.salt, "newsalt": token.newsalt}, when, code=134
        )
    if command == "get_miner_info":
        fields = raw.get("info") or raw.get("parameter")
        return flat_ok(miner_info(dev, fields if isinstance(fields, str) else None), when)
    builder = READS.get(command)
    if builder is not None:
        return builder(dev, when)
    if command in WRITE_COMMANDS:
        # Writes must come encrypted with a token; in clear they are refused.
        return flat_error(
            45 if not dev.options.api_writes else 135,
            _NO_ACCESS if not dev.options.api_writes else "check token error",
            when,
        )
    return flat_error(14, "invalid cmd", when)


def v2_reply(dev: WhatsminerUnit, request: RpcRequest) -> dict[str, Any]:
    when = dev.clock.unix()
    if request.invalid_json:
        return flat_error(23, "invalid JSON", when)
    raw = request.raw or {}
    if "enc" in raw:
        return _privileged(dev, raw, when)
    command = request.command or raw.get("cmd")
    if not isinstance(command, str) or not command.strip():
        return flat_error(14, "invalid cmd", when)
    command = command.strip().lower()
    if "+" not in command:
        return _single(dev, command, raw, when)
    reply: dict[str, Any] = {}
    for part in command.split("+"):
        if part.startswith("get_") or part == "status":
            reply[part] = [flat_error(14, "invalid cmd", when)]
        else:
            reply[part] = [_single(dev, part, raw, when)]
    reply["id"] = 1
    return reply


def _buggy(reply: dict[str, Any]) -> str:
    """The JSON bugs of some btminer builds, which clients repair (pyasic does)."""
    devs = reply.get("DEVS")
    if isinstance(devs, list):
        reply = dict(reply)
        reply["DEVS"] = [_with_temp0(entry) for entry in devs]
    text = json.dumps(reply, separators=(",", ":"))
    text = text.replace('","temp0"', '""temp0"')  # missing comma (2023-01-06 builds)
    text = text.replace('"Description":"', '"Description":"\n', 1)  # raw newline in a string
    first_close = text.find("}")
    return text[:first_close] + "," + text[first_close:]  # trailing comma: ",}"


def _with_temp0(entry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in entry.items():
        out[key] = value
        if key == "PCB SN":
            out["temp0"] = entry.get("Temperature", 0.0)
    return out


def v2_encoder(dev: WhatsminerUnit) -> Encoder:
    def encode(reply: dict[str, Any]) -> bytes | None:
        if reply is NO_REPLY:
            return None
        if WhatsminerQuirk.JSON_BUGS in dev.options.quirks and "enc" not in reply:
            return _buggy(reply).encode()
        return json.dumps(reply, separators=(",", ":")).encode()

    return encode

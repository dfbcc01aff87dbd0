"""Antminer configuration state and the semantics of ``set_miner_conf.cgi``.

Pure data and pure functions: the web service calls ``apply_conf`` and acts on the
result; tests can exercise the firmware quirks without a socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from simulators.device import PoolEntry
from simulators.physics import WorkMode

__all__ = [
    "DEFAULT_POOLS",
    "AntminerQuirk",
    "ConfChange",
    "MinerConf",
    "apply_conf",
    "mode_from_code",
    "mode_to_code",
]


class AntminerQuirk(StrEnum):
    SLOW_SET_CONF = "slow_set_conf"  # set_miner_conf answers after 20-35 s
    PARTIAL_BODY_WIPES_POOLS = "partial_body_wipes_pools"  # missing/empty pools blank them
    WORK_MODE_KEY_IGNORED = "work_mode_key_ignored"  # only `miner-mode` changes the mode


DEFAULT_POOLS: tuple[PoolEntry, ...] = (
    PoolEntry("stratum+tcp://pool.example.invalid:3333", "hashpivot.sim", "x"),
    PoolEntry("stratum+tcp://backup.example.invalid:3333", "hashpivot.sim", "x"),
    PoolEntry("", "", ""),
)
_BLANK_POOLS = (PoolEntry("", "", ""),) * 3

_MODE_BY_CODE = {0: WorkMode.NORMAL, 1: WorkMode.SLEEP, 3: WorkMode.LOW_POWER}
_CODE_BY_MODE = {mode: code for code, mode in _MODE_BY_CODE.items()}


def mode_from_code(value: object) -> WorkMode | None:
    """`miner-mode` / `bitmain-work-mode` as int or numeric string; None if unknown."""
    try:
        return _MODE_BY_CODE.get(int(str(value).strip()))
    except ValueError:
        return None


def mode_to_code(mode: WorkMode) -> int:
    return _CODE_BY_MODE[mode]


@dataclass(frozen=True, slots=True, kw_only=True)
class MinerConf:
    """What get_miner_conf.cgi reports (the stored configuration)."""

    pools: tuple[PoolEntry, ...] = DEFAULT_POOLS
    fan_ctrl: bool = False
    fan_pwm: str = "100"
    work_mode: WorkMode = WorkMode.NORMAL
    freq_level: str = "100"

    def as_web(self, frequency_mhz: int) -> dict[str, Any]:
        return {
            "pools": [{"url": p.url, "user": p.user, "pass": p.password} for p in self.pools],
            "api-listen": True,
            "api-network": True,
            "api-groups": "A:stats:pools:devs:summary:version",
            "api-allow": "A:0/0,W:*",
            "bitmain-fan-ctrl": self.fan_ctrl,
            "bitmain-fan-pwm": self.fan_pwm,
            "bitmain-use-vil": True,
            "bitmain-freq": str(frequency_mhz),
            "bitmain-voltage": "1300",
            "bitmain-ccdelay": "0",
            "bitmain-pwth": "0",
            "bitmain-work-mode": str(mode_to_code(self.work_mode)),
            "bitmain-freq-level": self.freq_level,
        }

    @property
    def manual_fan_percent(self) -> int | None:
        if not self.fan_ctrl:
            return None
        try:
            return max(0, min(100, int(self.fan_pwm)))
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class ConfChange:
    conf: MinerConf
    mode_changed: bool
    notes: tuple[str, ...] = field(default=())  # what the firmware did, for the log


def _pools_from_body(value: object) -> tuple[PoolEntry, ...] | None:
    """The pools a body carries, padded to three slots; None when it carries none."""
    if not isinstance(value, list) or not value:
        return None
    pools = [
        PoolEntry(str(p.get("url", "")), str(p.get("user", "")), str(p.get("pass", "")))
        for p in value[:3]
        if isinstance(p, dict)
    ]
    if not pools:
        return None
    return tuple(pools) + _BLANK_POOLS[len(pools) :]


def apply_conf(
    conf: MinerConf, body: dict[str, Any], quirks: frozenset[AntminerQuirk]
) -> ConfChange:
    """The stored configuration after a set_miner_conf body, as the firmware treats it.

    The body is a full configuration: pools and fan settings in it replace the stored
    ones. Missing pools keep the stored ones, unless the firmware has the
    `partial_body_wipes_pools` quirk, which blanks them.
    """
    notes: list[str] = []
    new = conf
    pools = _pools_from_body(body.get("pools"))
    if pools is not None:
        new = replace(new, pools=pools)
    elif AntminerQuirk.PARTIAL_BODY_WIPES_POOLS in quirks:
        new = replace(new, pools=_BLANK_POOLS)
        notes.append("body without pools blanked the stored pools")
    if "bitmain-fan-ctrl" in body:
        new = replace(new, fan_ctrl=bool(body["bitmain-fan-ctrl"]))
    # pyasic writes the key misspelt as "pwn"; stock firmware accepts both.
    for key in ("bitmain-fan-pwm", "bitmain-fan-pwn"):
        if key in body:
            new = replace(new, fan_pwm=str(body[key]))
    for key in ("freq-level", "bitmain-freq-level"):
        if key in body:
            new = replace(new, freq_level=str(body[key]))
    mode: WorkMode | None = None
    if "miner-mode" in body:
        mode = mode_from_code(body["miner-mode"])
        if mode is None:
            notes.append(f"ignored unknown miner-mode {body['miner-mode']!r}")
    elif "bitmain-work-mode" in body:
        if AntminerQuirk.WORK_MODE_KEY_IGNORED in quirks:
            notes.append("bitmain-work-mode written alone: ignored by this firmware")
        else:
            mode = mode_from_code(body["bitmain-work-mode"])
    if mode is not None:
        new = replace(new, work_mode=mode)
    return ConfChange(new, new.work_mode is not conf.work_mode, tuple(notes))

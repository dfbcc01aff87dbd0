"""What the Antminer parsers return: frozen records, in the device's own terms.

The device layer turns these into domain types (:mod:`drivers.types`); keeping
them separate lets tests and tools see exactly what a reply said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class StatsReading:
    model: str | None
    elapsed_s: float | None
    hashrate_5s_hs: float | None
    hashrate_avg_hs: float | None
    nameplate_hs: float | None
    fans_rpm: tuple[int, ...]
    boards: tuple[HashBoard, ...]
    work_mode: int | None = None  # only the web stats.cgi reports it


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolStatus:
    url: str
    user: str
    alive: bool
    active: bool
    priority: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
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

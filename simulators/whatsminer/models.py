"""The simulator's own Whatsminer model table (docs/protocols.md §6, pyasic's board tables).

``variant`` is chosen so that pyasic's model lookup (drop ``_``, last character -> 0)
finds a real class: "M60S_VK30" -> "M60SVK30", "M50S_VH55" -> "M50SVH50". Chip counts
match that class's expected chips, so a healthy unit reads as healthy.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulators.physics import PhysicsSpec, Timings

__all__ = [
    "WHATSMINER_MODELS",
    "WHATSMINER_TIMINGS",
    "WhatsminerModel",
    "lookup_whatsminer_model",
    "whatsminer_physics",
]

WHATSMINER_TIMINGS = Timings(stop_s=5.0, boot_s=90.0)


@dataclass(frozen=True, slots=True)
class WhatsminerModel:
    name: str  # as operators write it: "M60S"
    variant: str  # hash-board variant: "VK30"
    nameplate_ths: float
    nameplate_w: float  # the standard power: no power limit may exceed it
    boards: int
    chips_per_board: int
    fans: int  # 0: hydro
    frequency_mhz: int
    psu_model: str
    control_board: str

    @property
    def nameplate_hs(self) -> float:
        return self.nameplate_ths * 1e12

    @property
    def type_string(self) -> str:
        """``DEVDETAILS[].Model`` (v2) and ``miner.type`` (v3)."""
        return f"{self.name}_{self.variant}"


WHATSMINER_MODELS: tuple[WhatsminerModel, ...] = (
    WhatsminerModel("M30S++", "VH30", 112.0, 3472.0, 3, 111, 2, 600, "P222B", "CB4V10"),
    WhatsminerModel("M50S", "VH55", 126.0, 3276.0, 3, 135, 2, 600, "P222B", "CB6V10"),
    WhatsminerModel("M60S", "VK30", 186.0, 3441.0, 3, 245, 2, 625, "P221B", "CB6V10"),
    WhatsminerModel("M63S", "VK30", 390.0, 7215.0, 4, 370, 0, 625, "P621", "CB6V10"),
)


def _key(name: str) -> str:
    return name.lower().replace("whatsminer", "").replace(" ", "").replace("_", "")


_BY_KEY = {_key(m.name): m for m in WHATSMINER_MODELS} | {
    _key(m.type_string): m for m in WHATSMINER_MODELS
}


def lookup_whatsminer_model(name: str) -> WhatsminerModel:
    """Find a model by name ("M60S", "Whatsminer M60S", "M60S_VK30"); KeyError if unknown."""
    try:
        return _BY_KEY[_key(name)]
    except KeyError:
        known = ", ".join(m.name for m in WHATSMINER_MODELS)
        raise KeyError(f"unknown Whatsminer model {name!r} (known: {known})") from None


def whatsminer_physics(spec: WhatsminerModel, rng: random.Random) -> PhysicsSpec:
    """The physical model of one unit of ``spec`` (the device and the backtest share it)."""
    return PhysicsSpec(
        spec.nameplate_hs,
        spec.nameplate_w,
        spec.boards,
        spec.fans,
        sleep_w=rng.uniform(10.0, 30.0),  # control board and PSU after power_off
        boot_w=60.0,  # mining restarts: power dips near zero before the ramp
        max_fan_rpm=7000,
        idle_fan_rpm=0,
    )

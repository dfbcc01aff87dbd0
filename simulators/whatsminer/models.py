"""The simulator's own Whatsminer model table (docs/protocols.md §6, pyasic's board tables).

``variant`` is chosen so that pyasic's model lookup (drop ``_``, last character -> 0)
finds a real class: "M60S_VK30" -> "M60SVK30", "M50S_VH55" -> "M50SVH50". Chip counts
match that class's expected chips, so a healthy unit reads as healthy.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulators.model_index import ModelIndex
from simulators.physics import PhysicsSpec, Timings

__all__ = [
    "WHATSMINER_MODELS",
    "WHATSMINER_TIMINGS",
    "WhatsminerModel",
    "lookup_whatsminer_model",
    "whatsminer_physics",
]

WHATSMINER_TIMINGS = Timings(stop_s=5.0, boot_s=90.0)


@dataclass(frozen=True, slots=True, kw_only=True)
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
    WhatsminerModel(name="M30S++", variant="VH30", nameplate_ths=112.0, nameplate_w=3472.0,
                    boards=3, chips_per_board=111, fans=2, frequency_mhz=600, psu_model="P222B",
                    control_board="CB4V10"),
    WhatsminerModel(name="M50S", variant="VH55", nameplate_ths=126.0, nameplate_w=3276.0, boards=3,
                    chips_per_board=135, fans=2, frequency_mhz=600, psu_model="P222B",
                    control_board="CB6V10"),
    WhatsminerModel(name="M60S", variant="VK30", nameplate_ths=186.0, nameplate_w=3441.0, boards=3,
                    chips_per_board=245, fans=2, frequency_mhz=625, psu_model="P221B",
                    control_board="CB6V10"),
    WhatsminerModel(name="M63S", variant="VK30", nameplate_ths=390.0, nameplate_w=7215.0, boards=4,
                    chips_per_board=370, fans=0, frequency_mhz=625, psu_model="P621",
                    control_board="CB6V10"),
)  # fmt: skip


def _key(name: str) -> str:
    return name.lower().replace("whatsminer", "").replace(" ", "").replace("_", "")


_INDEX = ModelIndex(
    "Whatsminer", WHATSMINER_MODELS, _key, (lambda m: m.name, lambda m: m.type_string)
)


def lookup_whatsminer_model(name: str) -> WhatsminerModel:
    """Find a model by name ("M60S", "Whatsminer M60S", "M60S_VK30"); KeyError if unknown."""
    return _INDEX.find(name)


def whatsminer_physics(spec: WhatsminerModel, rng: random.Random) -> PhysicsSpec:
    """The physical model of one unit of ``spec`` (the device and the backtest share it)."""
    return PhysicsSpec(
        nameplate_hs=spec.nameplate_hs,
        nameplate_w=spec.nameplate_w,
        boards=spec.boards,
        fans=spec.fans,
        sleep_w=rng.uniform(10.0, 30.0),  # control board and PSU after power_off
        boot_w=60.0,  # mining restarts: power dips near zero before the ramp
        max_fan_rpm=7000,
        idle_fan_rpm=0,
    )

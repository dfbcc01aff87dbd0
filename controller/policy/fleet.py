"""Fleet inputs: what each device is, what we may do with it, and what it does now.

Devices that share a model, firmware controls, AI job class and priority group
share one :class:`DeviceProfile`; the engine works per profile, not per device,
which is what lets one plan cover 100,000 devices in well under a second.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from itertools import pairwise

from controller.policy.errors import InvalidFleet
from controller.state.domain import Health
from drivers.models import ModelSpec
from drivers.types import Control, Make, MiningState, PowerMode

__all__ = ["AiClass", "DeviceProfile", "Fleet", "FleetDevice"]


class AiClass(enum.StrEnum):
    """What the jobs on a GPU node are worth, and whether they may be interrupted."""

    CONTRACTED = "contracted"  # must run; shed only when a grid event cannot be met otherwise
    INTERRUPTIBLE = "interruptible"  # spot or preemptible work that can checkpoint
    IDLE = "idle"  # no jobs; schedulable capacity only


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceProfile:
    """What a kind of device is and which levers the site allows on it.

    ``gpu_power_limit_range_w`` is the node total (all GPUs together), in watts.
    """

    make: Make
    model: str
    spec: ModelSpec | None
    controls: frozenset[Control]
    power_target_range_w: tuple[float, float] | None = None
    power_modes: frozenset[PowerMode] = frozenset()
    gpu_power_limit_range_w: tuple[float, float] | None = None
    gpu_count: int = 8
    can_requeue: bool = True
    ai_class: AiClass | None = None
    group: str = ""  # priority group; see PolicySettings.priorities
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        if self.is_gpu and self.ai_class is None:
            raise InvalidFleet(f"GPU profile {self.model!r} needs an AI class")
        if not self.is_gpu and self.ai_class is not None:
            raise InvalidFleet(f"miner profile {self.model!r} cannot carry an AI class")
        for name, rng in (
            ("power target", self.power_target_range_w),
            ("GPU power limit", self.gpu_power_limit_range_w),
        ):
            if rng is not None and not (0 < rng[0] <= rng[1] and math.isfinite(rng[1])):
                raise InvalidFleet(f"{self.model!r}: bad {name} range {rng}")
        if self.gpu_count < 1:
            raise InvalidFleet(f"{self.model!r}: gpu_count must be positive")
        # Profiles are dictionary keys once per device per plan: hash once, here.
        object.__setattr__(self, "_hash", hash(self.sort_key))

    def __hash__(self) -> int:
        return self._hash

    @property
    def is_gpu(self) -> bool:
        return self.make is Make.GPU

    @property
    def sort_key(self) -> tuple[str, str, str, str, tuple[str, ...], str]:
        """A total, deterministic order over profiles (ties in value break on this)."""
        return (
            self.make.value,
            self.model,
            self.ai_class.value if self.ai_class else "",
            self.group,
            tuple(sorted(c.value for c in self.controls)),
            repr((self.power_target_range_w, self.gpu_power_limit_range_w, self.gpu_count)),
        )

    @classmethod
    def for_model(
        cls,
        spec: ModelSpec,
        *,
        ai_class: AiClass | None = None,
        group: str = "",
        can_requeue: bool = True,
    ) -> DeviceProfile:
        """The profile the model table implies for stock firmware."""
        target: tuple[float, float] | None = None
        gpu_range: tuple[float, float] | None = None
        lo, hi = spec.power_target_min_w, spec.power_target_max_w
        if lo is not None and hi is not None:
            if spec.make is Make.GPU:
                gpu_range = (lo, hi)
            elif Control.POWER_TARGET in spec.controls:
                target = (lo, hi)
        modes = (
            frozenset(PowerMode) if Control.POWER_MODE in spec.controls else frozenset[PowerMode]()
        )
        return cls(
            make=spec.make,
            model=spec.model,
            spec=spec,
            controls=spec.controls,
            power_target_range_w=target,
            power_modes=modes,
            gpu_power_limit_range_w=gpu_range,
            can_requeue=can_requeue,
            ai_class=ai_class if spec.make is Make.GPU else None,
            group=group,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetDevice:
    """One device as last observed. ``observed_at`` is unix seconds from the controller clock,
    or ``None`` for a reading that is current whenever the fleet is read (the backtest's
    simulated units always answer, so it keeps an unchanged reading from plan to plan).

    ``power_target_w`` is a miner's current power target, ``gpu_power_limit_w`` a GPU
    node's current total limit and ``schedulable`` whether its scheduler may place jobs.
    A device with no lever (stuck, excluded) counts at ``power_w`` while it reports
    one; ``stuck`` ones are listed in the plan's compensation record.
    """

    device_id: str
    profile: DeviceProfile
    state: MiningState
    health: Health
    power_w: float | None
    observed_at: float | None
    last_state_change_at: float | None = None  # None: longer ago than any dwell
    cycles_today: int = 0
    power_target_w: float | None = None
    gpu_power_limit_w: float | None = None
    schedulable: bool | None = None
    source: str = "telemetry"
    stuck: bool = False  # did not act on a command: held, and others shed in its place


@dataclass(frozen=True, slots=True)
class Fleet:
    """Every device on the site, kept in device-id order so that plans are deterministic."""

    devices: tuple[FleetDevice, ...]
    as_of: float
    source: str = "poller"

    def __post_init__(self) -> None:
        ids = [d.device_id for d in self.devices]
        if any(a >= b for a, b in pairwise(ids)):
            ordered = tuple(sorted(self.devices, key=lambda d: d.device_id))
            ids = [d.device_id for d in ordered]
            duplicates = sorted({a for a, b in pairwise(ids) if a == b})
            if duplicates:
                raise InvalidFleet(f"duplicate device ids: {', '.join(duplicates[:5])}")
            object.__setattr__(self, "devices", ordered)

    def __len__(self) -> int:
        return len(self.devices)

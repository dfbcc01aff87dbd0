"""Everything one plan is computed from, including the time it is computed at."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from controller.policy.economics import Economics
from controller.policy.errors import InvalidInput
from controller.policy.fleet import Fleet
from controller.policy.grid import Grid
from controller.policy.settings import PolicySettings

__all__ = ["PolicyInputs"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyInputs:
    """``now`` is unix seconds from the caller's clock: the engine never reads one."""

    now: float
    fleet: Fleet
    economics: Economics
    grid: Grid
    settings: PolicySettings = field(default_factory=PolicySettings)

    def __post_init__(self) -> None:
        if not math.isfinite(self.now):
            raise InvalidInput("now must be a finite timestamp")

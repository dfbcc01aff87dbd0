"""Operator-chosen policy settings, with defaults drawn from docs/domain.md's common practice."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from controller.policy.errors import InvalidSettings

__all__ = ["PolicySettings", "SafePolicy"]


class SafePolicy(enum.StrEnum):
    """What economic decisions become while the price or hashprice is stale.

    Grid limits, the relay latch and contracted AI are enforced either way.
    """

    HOLD = "hold"  # change nothing for economic reasons
    SLEEP_MINERS = "sleep_miners"  # assume hashing loses money; AI is held
    RUN_MINERS = "run_miners"  # assume hashing pays; AI is held


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySettings:
    curtail_after_windows: int = 3  # price windows above break-even before curtailing
    resume_after_windows: int = 3  # price windows below break-even before resuming
    # A price window is a span of time, aligned to the clock (ERCOT's real-time market
    # settles every 5 min): the first price seen in each window counts, later updates in
    # the same window do not, so a feed that repeats every second is not three windows in
    # three seconds. 0 counts every new price as a window (tests, backtests on steps).
    price_window_s: float = 0.0
    min_on_dwell_s: float = 900.0
    min_off_dwell_s: float = 900.0
    max_cycles_per_day: int = 6
    wake_stagger_s: float = 10.0
    reserve_mw: float = 0.0  # kept free under the cap and under every event level
    priorities: tuple[tuple[str, int], ...] = ()  # (profile group, priority): higher sheds later
    max_price_age_s: float = 900.0
    max_hashprice_age_s: float = 6 * 3600.0
    max_device_age_s: float = 120.0  # older telemetry makes a device's state unknown
    safe_policy: SafePolicy = SafePolicy.HOLD
    plan_interval_s: float = 300.0  # how often the control loop plans; ramp budgets use it
    gpu_capped_throughput: float = 0.8  # throughput kept at the lowest GPU power limit
    unknown_device_w: float = 10_200.0  # assumed draw of a device with no model-table row
    utc_offset_s: int = 0  # for clock times in reasons

    def __post_init__(self) -> None:
        counts = (self.curtail_after_windows, self.resume_after_windows, self.max_cycles_per_day)
        if min(counts) < 0:
            raise InvalidSettings("window counts and the cycle limit must be >= 0")
        non_negative = (
            self.min_on_dwell_s,
            self.min_off_dwell_s,
            self.wake_stagger_s,
            self.reserve_mw,
            self.max_price_age_s,
            self.max_hashprice_age_s,
            self.max_device_age_s,
            self.unknown_device_w,
            self.price_window_s,
        )
        if not all(math.isfinite(v) and v >= 0 for v in non_negative):
            raise InvalidSettings("durations, ages, reserve and draws must be finite and >= 0")
        if not (math.isfinite(self.plan_interval_s) and self.plan_interval_s > 0):
            raise InvalidSettings("plan interval must be positive")
        if not 0 < self.gpu_capped_throughput <= 1:
            raise InvalidSettings("capped GPU throughput must be in (0, 1]")
        groups = [g for g, _ in self.priorities]
        if len(set(groups)) != len(groups):
            raise InvalidSettings("each priority group may appear once")

    def priority_of(self, group: str) -> int:
        for name, priority in self.priorities:
            if name == group:
                return priority
        return 0

"""What the simulated meter measures: lazy power, a fixed feed split, integrated energy.

Nothing ticks. Each sample (one per Modbus read, or one per ``snapshot()``) calls the
power source once, so a meter over a 10,000-device fleet costs nothing between reads.
Energy integrates the noise-free power with the trapezoid rule between samples, over
the simulated clock when there is one (so ``clock.advance(3600)`` adds an hour of
energy), else over real monotonic time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from simulators.clock import SimClock

__all__ = ["MeterSnapshot", "MeterState", "PowerSource"]

PowerSource = Callable[[], float]


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterSnapshot:
    """One sample: what the meter serves, and the ground truth behind it."""

    taken_at: float  # unix seconds (the simulated clock's unix view when there is one)
    true_w: float  # power_source() + base_load_w, without noise
    total_w: float  # as served: true_w with noise
    feeds_w: tuple[float, ...]  # total_w split across the feeds
    energy_wh: float  # the import counter, before rounding to whole Wh


class MeterState:
    """Samples the power source and keeps the energy counter."""

    __slots__ = (
        "_base_load_w",
        "_clock",
        "_energy_wh",
        "_last",
        "_noise",
        "_rng",
        "_shares",
        "_source",
        "last_served",
    )

    def __init__(
        self,
        power_source: PowerSource,
        *,
        base_load_w: float = 0.0,
        feeds: int = 2,
        noise: float = 0.0,
        seed: int = 0,
        clock: SimClock | None = None,
        energy_start_wh: float = 0.0,
    ) -> None:
        if not 0.0 <= noise < 1.0:
            raise ValueError(f"noise is a relative amplitude in [0, 1), got {noise}")
        if feeds < 0:
            raise ValueError(f"feeds must not be negative, got {feeds}")
        if energy_start_wh < 0:
            raise ValueError(f"energy_start_wh must not be negative, got {energy_start_wh}")
        self._source = power_source
        self._base_load_w = float(base_load_w)
        self._noise = float(noise)
        self._rng = random.Random(seed)
        self._clock = clock
        # Feeds are rarely balanced: a fixed, seeded imbalance of up to +-20% each.
        weights = [self._rng.uniform(0.8, 1.2) for _ in range(feeds)]
        self._shares = tuple(w / sum(weights) for w in weights)
        self._energy_wh = float(energy_start_wh)
        self._last: tuple[float, float] | None = None  # (monotonic seconds, true W)
        self.last_served: MeterSnapshot | None = None

    @property
    def feeds(self) -> int:
        return len(self._shares)

    def _now(self) -> tuple[float, float]:
        if self._clock is not None:
            return self._clock.now(), self._clock.unix()
        return time.monotonic(), time.time()

    def sample(self) -> MeterSnapshot:
        """Read the power source once and advance the energy counter to now."""
        true_w = float(self._source()) + self._base_load_w
        now, unix = self._now()
        if self._last is not None:
            then, then_w = self._last
            if now > then:
                self._energy_wh += max(0.0, (then_w + true_w) / 2.0 * (now - then) / 3600.0)
        self._last = (now, true_w)
        total_w = true_w * (1.0 + self._rng.uniform(-self._noise, self._noise))
        feeds_w = tuple(total_w * share for share in self._shares)
        return MeterSnapshot(
            taken_at=unix,
            true_w=true_w,
            total_w=total_w,
            feeds_w=feeds_w,
            energy_wh=self._energy_wh,
        )

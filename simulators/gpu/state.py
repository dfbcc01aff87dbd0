"""One GPU's physics on the simulated clock: power follows a first-order lag.

Power heads for ``target = min(demand, limit)``, where demand rises from idle to the
loaded draw with the job's load. A cap below demand costs throughput sub-linearly:
``(limit / demand) ** 0.44``, so 60 % of TDP keeps about 80 % (protocols.md §6).
Nothing ticks: each change records where power was, and reads evaluate the curve
(and integrate energy in closed form) at the clock's current time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulators.gpu.models import GpuModel

__all__ = ["CAP_EXPONENT", "GpuState", "throughput_fraction"]

CAP_EXPONENT = 0.44  # 0.6 ** 0.44 = 0.80


def throughput_fraction(limit_w: float, demand_w: float) -> float:
    if demand_w <= 0 or limit_w >= demand_w:
        return 1.0
    return float((max(limit_w, 0.0) / demand_w) ** CAP_EXPONENT)


@dataclass(slots=True)
class GpuState:
    """Mutable on purpose: the device owns one per GPU and changes it under its verbs."""

    model: GpuModel
    index: int
    uuid: str
    settle_s: float  # time for a limit change to settle (~1 s, [E])
    limit_w: float
    load: float = 0.0  # 0 idle .. 1 full job
    from_w: float = 0.0
    changed_at: float = 0.0
    energy_j: float = 0.0  # up to changed_at
    xid_last: int = 0
    ecc_corrected: int = 0
    ecc_uncorrected: int = 0
    lost: bool = False

    @property
    def demand_w(self) -> float:
        m = self.model
        return m.idle_w + self.load * (m.loaded_w - m.idle_w)

    @property
    def target_w(self) -> float:
        return min(self.demand_w, self.limit_w)

    def _tau(self) -> float:
        return max(self.settle_s / 4, 1e-6)  # within ~2 % after settle_s

    def power_w(self, now: float) -> float:
        if self.lost:
            return 0.0
        dt = max(0.0, now - self.changed_at)
        return self.target_w + (self.from_w - self.target_w) * math.exp(-dt / self._tau())

    def energy_at(self, now: float) -> float:
        dt = max(0.0, now - self.changed_at)
        tau, target = self._tau(), (0.0 if self.lost else self.target_w)
        return (
            self.energy_j + target * dt + (self.from_w - target) * tau * (1 - math.exp(-dt / tau))
        )

    def change(
        self, now: float, *, limit_w: float | None = None, load: float | None = None
    ) -> None:
        """Fold the curve so far into energy, then start a new curve from here."""
        self.energy_j = self.energy_at(now)
        self.from_w = self.power_w(now)
        self.changed_at = now
        if limit_w is not None:
            self.limit_w = limit_w
        if load is not None:
            self.load = min(1.0, max(0.0, load))

    def throughput(self) -> float:
        """Work rate as a fraction of the uncapped rate at this load (settled)."""
        return self.load * throughput_fraction(self.limit_w, self.demand_w)

    def utilisation_pct(self) -> float:
        return 0.0 if self.lost else round(100 * self.load, 1)

    def temp_c(self, now: float) -> float:
        return round(30 + 40 * self.power_w(now) / self.model.tdp_w, 1)

    def sm_clock_mhz(self) -> int:
        if self.load == 0:
            return 345
        # Capping pulls the clock down with throughput; idle clocks park low.
        return round(self.model.sm_clock_max_mhz * throughput_fraction(self.limit_w, self.demand_w))

    def mem_used_mib(self) -> int:
        return round(self.model.mem_total_mib * (0.005 + 0.85 * self.load))

    def throttle_reasons(self, now: float) -> int:
        # NVML: 0x1 GPU idle, 0x4 SW power cap.
        if self.load == 0:
            return 0x1
        return 0x4 if self.demand_w > self.limit_w else 0

"""One GPU on the simulated clock: its work, its limit, and the draw that follows them.

Where the GPU settles comes from :func:`simulators.gpu.power.operating_point` (the
calibrated model); how it gets there is a straight ramp that arrives in ``settle_s``
(about 1 s on the H200, both ways, whatever the swing). When a job ends with no context
left, the GPU holds its boost clock at ``after_load_w`` for ``boost_hold_s`` before it
parks at idle, as the H200 trace shows. Nothing ticks: each change records where power
was, and reads evaluate the ramp (and integrate energy in closed form) at the clock's time.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.gpu.models import GpuModel
from simulators.gpu.power import (
    CAP_EXPONENT,
    GpuWork,
    Operating,
    WorkKind,
    operating_point,
    ramp,
    ramp_energy,
    throughput_fraction,
)

__all__ = ["CAP_EXPONENT", "GpuState", "throughput_fraction"]


@dataclass(slots=True, kw_only=True)
class GpuState:
    """Mutable on purpose: the device owns one per GPU and changes it under its verbs."""

    model: GpuModel
    index: int
    uuid: str
    settle_s: float  # time for a change in draw to settle (the model's, unless a site says)
    limit_w: float
    load: float = 0.0  # the share of time the work keeps the GPU busy (0: no work)
    kind: WorkKind = WorkKind.COMPUTE  # CONTEXT: a process holds a context, load 0
    from_w: float = 0.0
    changed_at: float = 0.0
    energy_j: float = 0.0  # up to changed_at
    hold_until: float | None = None  # a job just ended: boost clock and after-load draw
    xid_last: int = 0
    ecc_corrected: int = 0
    ecc_uncorrected: int = 0
    lost: bool = False

    @property
    def work(self) -> GpuWork:
        if self.kind is WorkKind.CONTEXT:
            return GpuWork(kind=WorkKind.CONTEXT)
        if self.load <= 0 or self.kind is WorkKind.NONE:
            return GpuWork()
        return GpuWork.of(self.kind, self.load)

    @property
    def demand_w(self) -> float:
        """What the work would draw at the default limit (before a lower cap)."""
        return self.model.power.demand_w(self.work)

    def settled(self) -> Operating:
        """Where the GPU heads for its current work and limit, the boost hold aside."""
        return operating_point(self.model.power, self.work, self.limit_w)

    def _hold_target(self) -> float:
        return min(self.model.power.after_load_w, self.limit_w * self.model.power.cap_fill)

    @property
    def target_w(self) -> float:
        return 0.0 if self.lost else self.settled().power_w

    def _holding(self, now: float) -> bool:
        return self.hold_until is not None and now < self.hold_until

    def power_w(self, now: float) -> float:
        if self.lost:
            return 0.0
        dt = now - self.changed_at
        if self.hold_until is None or self.hold_until <= self.changed_at:
            return ramp(self.from_w, self.target_w, dt, self.settle_s)
        held = min(now, self.hold_until) - self.changed_at
        at_hold = ramp(self.from_w, self._hold_target(), held, self.settle_s)
        if now <= self.hold_until:
            return at_hold
        return ramp(at_hold, self.target_w, now - self.hold_until, self.settle_s)

    def energy_at(self, now: float) -> float:
        if self.lost:
            return self.energy_j  # a lost GPU draws nothing (change() folded what it drew)
        dt = now - self.changed_at
        if self.hold_until is None or self.hold_until <= self.changed_at:
            return self.energy_j + ramp_energy(self.from_w, self.target_w, dt, self.settle_s)
        held = min(now, self.hold_until) - self.changed_at
        target = self._hold_target()
        energy = self.energy_j + ramp_energy(self.from_w, target, held, self.settle_s)
        if now <= self.hold_until:
            return energy
        at_hold = ramp(self.from_w, target, held, self.settle_s)
        return energy + ramp_energy(at_hold, self.target_w, now - self.hold_until, self.settle_s)

    def change(
        self,
        now: float,
        *,
        limit_w: float | None = None,
        load: float | None = None,
        kind: WorkKind | None = None,
    ) -> None:
        """Fold the curve so far into energy, then start a new curve from here.

        ``load`` 0 ends the work (the process exits); ``kind`` CONTEXT keeps a process
        holding its context with nothing to run."""
        self.energy_j = self.energy_at(now)
        self.from_w = self.power_w(now)
        self.changed_at = now
        if limit_w is not None:
            self.limit_w = limit_w
        if load is None and kind is None:
            return
        was_busy = self.work.kind in {WorkKind.COMPUTE, WorkKind.MEMORY}
        if kind is not None:
            self.kind = kind
        if load is not None:
            self.load = min(1.0, max(0.0, load))
        ended = was_busy and self.work.kind is WorkKind.NONE
        self.hold_until = now + self.model.power.boost_hold_s if ended else None

    def throughput(self) -> float:
        """Work rate as a share of the same work at the default limit (settled)."""
        return self.settled().throughput

    def utilisation_pct(self) -> float:
        return 0.0 if self.lost else self.settled().utilisation_pct

    def temp_c(self, now: float) -> float:
        return self.model.power.temp_c(self.power_w(now))

    def sm_clock_mhz(self, now: float) -> int:
        if self._holding(now):
            return self.model.power.boost_sm_mhz
        return self.settled().sm_clock_mhz

    def mem_used_mib(self) -> int:
        return round(self.model.mem_total_mib * (0.005 + 0.85 * self.load))

    def throttle_reasons(self, now: float) -> int:
        return 0 if self._holding(now) else self.settled().throttle_reasons

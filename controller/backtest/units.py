"""One simulated unit's physics, as the simulators model it, plus what the controller reads.

A :class:`MinerUnit` wraps :class:`simulators.physics.MinerPhysics`; a
:class:`NodeUnit` an 8-GPU node built from :class:`simulators.gpu.state.GpuState`
(one GPU's curve times the node's GPU count) and the node's base draw. Commands act
on them as the makes' firmware applies them (simulators/*/state.py): a Whatsminer
power limit restarts mining, a target set in place does not, a GPU limit settles in
about a second, a drained node's jobs stop. A unit may stand for many identical
devices (a cohort, see :mod:`.fleet`); nothing here knows how many.
"""

from __future__ import annotations

import copy
from collections import deque

from controller.backtest.site import DeviceKind
from controller.policy import (
    CheckpointJobs,
    Drain,
    PlanCommand,
    RequeueJobs,
    Resume,
    SetGpuPowerLimit,
)
from drivers import MiningState, SetPowerTarget, Sleep, Wake
from simulators.clock import SimClock
from simulators.gpu.models import node_base_power_w
from simulators.gpu.state import GpuState, throughput_fraction
from simulators.physics import MinerPhysics, Phase, WorkMode

__all__ = ["DAY_S", "MinerUnit", "NodeUnit", "SteppedClock", "Unit"]

DAY_S = 86_400.0
_SETTLED_S = 10.0  # a GPU limit change is settled well within this (settle_s ~1 s)


class SteppedClock(SimClock):
    """Simulated time that moves only when the backtest moves it (no real-time drift)."""

    __slots__ = ()

    def __init__(self, unix_start: float) -> None:
        super().__init__(1.0, unix_start=unix_start)

    def _elapsed(self) -> float:
        return self._sim_anchor

    def set(self, t: float) -> None:
        """Move to simulated second ``t`` (never backwards)."""
        self.advance(max(0.0, t - self.now()))


class _Book:
    """What the controller remembers of a device: last state change and recent wakes."""

    __slots__ = ("last_change_at", "wakes")

    def __init__(self) -> None:
        self.last_change_at: float | None = None
        self.wakes: deque[float] = deque()

    def copy(self) -> _Book:
        twin = _Book()
        twin.last_change_at, twin.wakes = self.last_change_at, deque(self.wakes)
        return twin

    def cycles(self, now: float) -> int:
        while self.wakes and self.wakes[0] < now - DAY_S:
            self.wakes.popleft()
        return len(self.wakes)

    def key(self, now: float, dwell_s: float) -> tuple[float | None, tuple[float, ...]]:
        self.cycles(now)  # forget wakes older than a day first
        old = self.last_change_at is None or now - self.last_change_at >= dwell_s
        return (None if old else self.last_change_at), tuple(self.wakes)


class MinerUnit:
    __slots__ = ("book", "clock", "kind", "physics", "target_w", "tripped_from")

    def __init__(self, kind: DeviceKind, clock: SteppedClock) -> None:
        assert kind.physics is not None
        self.kind, self.clock = kind, clock
        self.physics = MinerPhysics(kind.physics, clock, timings=kind.timings, seed=0)
        self.target_w = kind.initial_cap_w
        self.tripped_from: WorkMode | None = None  # the mode the relay cut, until it recloses
        if kind.initial_cap_w is not None:
            self.physics.set_power_cap(kind.initial_cap_w, restart=False, instant=True)
        self.book = _Book()

    def clone(self) -> MinerUnit:
        twin = copy.copy(self)
        twin.physics = self.physics.fork()
        twin.book = self.book.copy()
        return twin

    def observe(self, now: float) -> tuple[MiningState, float, float | None, float | None, None]:
        phase = self.physics.phase(now)
        if self.physics.mode is WorkMode.SLEEP:
            state = MiningState.SLEEPING
        elif phase is Phase.RUNNING:
            state = MiningState.HASHING
        else:
            state = MiningState.STARTING
        return state, self.physics.reading(now)[1], self.target_w, None, None

    def power_w(self, now: float) -> float:
        return self.physics.reading(now)[1]

    def take(self, a: float, b: float) -> tuple[float, float, float]:
        """Hash (H), energy (J) and AI work (GPU-seconds) over [a, b] (the last take to now)."""
        hash_, energy = self.physics.totals(a, b)
        return hash_, energy, 0.0

    def apply(self, command: PlanCommand, issued_at: float) -> tuple[int, int]:
        """Carry out ``command`` now: (1, 0) for a wake (one more cycle), else (0, 0)."""
        physics = self.physics
        if isinstance(command, Sleep):
            if physics.mode is not WorkMode.SLEEP:
                physics.set_mode(WorkMode.SLEEP)
                self.book.last_change_at = issued_at
            return 0, 0
        if isinstance(command, Wake):
            if physics.mode is WorkMode.SLEEP:
                physics.set_mode(WorkMode.NORMAL)
                self.book.last_change_at = issued_at
                self.book.wakes.append(issued_at)
                return 1, 0
            return 0, 0
        if isinstance(command, SetPowerTarget):
            rng = self.kind.target_range_w
            if rng is None or not rng[0] - 1 <= command.watts <= rng[1] + 1:
                return 0, 0  # the firmware refuses it; the unit runs on as it was
            self.target_w = command.watts
            restart = self.kind.restart_on_target and physics.mode is not WorkMode.SLEEP
            physics.set_power_cap(command.watts, restart=restart)
        return 0, 0

    def trip(self) -> None:
        """The under-frequency relay opens the miners' feeder: hashing stops at once."""
        if self.physics.mode is not WorkMode.SLEEP:
            self.tripped_from = self.physics.mode
            self.physics.set_mode(WorkMode.SLEEP)
            self.book.last_change_at = self.clock.now()

    def reclose(self) -> int:
        """Power returns: a unit the relay cut boots into its mode again (1: a power cycle)."""
        mode, self.tripped_from = self.tripped_from, None
        if mode is None or self.physics.mode is not WorkMode.SLEEP:
            return 0
        self.physics.set_mode(mode)
        self.book.last_change_at = self.clock.now()
        return 1

    def settled_key(self, now: float, dwell_s: float) -> tuple[object, ...] | None:
        if self.physics.settles_at() > now:
            return None
        return (
            self.physics.mode,
            self.physics.power_cap_w,
            self.target_w,
            self.tripped_from,
            self.book.key(now, dwell_s),
        )


class NodeUnit:
    """An n-GPU node: one GPU's curve stands for each of its identical GPUs."""

    __slots__ = (
        "_base_from",
        "_base_j",
        "_taken",
        "_work",
        "_work_from",
        "book",
        "clock",
        "gpu",
        "kind",
        "schedulable",
    )

    def __init__(self, kind: DeviceKind, clock: SteppedClock) -> None:
        assert kind.gpu is not None
        self.kind, self.clock = kind, clock
        now = clock.now()
        self.gpu = GpuState(
            model=kind.gpu,
            index=0,
            uuid="GPU-backtest",
            settle_s=1.0,
            limit_w=kind.gpu.tdp_w,
            load=kind.job_load,
            changed_at=now,
        )
        self.gpu.from_w = self.gpu.target_w
        self.schedulable = True
        self._base_j, self._base_from = 0.0, now
        self._work, self._work_from = 0.0, now
        self._taken = (0.0, 0.0)
        self.book = _Book()

    def clone(self) -> NodeUnit:
        twin = copy.copy(self)
        twin.gpu = copy.copy(self.gpu)
        twin.book = self.book.copy()
        return twin

    def _base_w(self) -> float:
        assert self.kind.gpu is not None
        return node_base_power_w(self.kind.gpu, self.gpu.load)

    def _rate(self) -> float:
        """GPU-seconds of paid work per second: throughput at the limit, while jobs run."""
        if not self.schedulable:
            return 0.0
        fraction = throughput_fraction(self.gpu.limit_w, self.gpu.demand_w)
        return self.kind.gpu_count * fraction

    def power_w(self, now: float) -> float:
        return self.gpu.power_w(now) * self.kind.gpu_count + self._base_w()

    def observe(self, now: float) -> tuple[MiningState, float, None, float, bool]:
        limit = self.gpu.limit_w * self.kind.gpu_count
        return MiningState.HASHING, self.power_w(now), None, limit, self.schedulable

    def cumulative(self, now: float) -> tuple[float, float]:
        """Energy (J) and paid work (GPU-s) since the backtest began, up to ``now``."""
        energy = self.gpu.energy_at(now) * self.kind.gpu_count
        energy += self._base_j + self._base_w() * (now - self._base_from)
        return energy, self._work + self._rate() * (now - self._work_from)

    def take(self, a: float, b: float) -> tuple[float, float, float]:
        """Hash (none), energy (J) and paid work (GPU-s) since the last take, up to ``b``."""
        energy, work = self.cumulative(b)
        taken_e, taken_w = self._taken
        self._taken = (energy, work)
        return 0.0, energy - taken_e, work - taken_w

    def _fold(self, now: float) -> None:
        self._base_j += self._base_w() * (now - self._base_from)
        self._work += self._rate() * (now - self._work_from)
        self._base_from = self._work_from = now

    def apply(self, command: PlanCommand, issued_at: float) -> tuple[int, int]:
        """(1, 0) for a resume (a drain-resume cycle); (0, 1) a checkpoint, (0, 2) a requeue."""
        now = self.clock.now()
        if isinstance(command, SetGpuPowerLimit):
            self._fold(now)
            self.gpu.change(now, limit_w=command.watts_per_gpu)
        elif isinstance(command, Drain):
            if self.schedulable:
                self._fold(now)
                self.schedulable = False
                self.gpu.change(now, load=0.0)
                self.book.last_change_at = issued_at
        elif isinstance(command, Resume):
            if not self.schedulable:
                self._fold(now)
                self.schedulable = True
                self.gpu.change(now, load=self.kind.job_load)
                self.book.last_change_at = issued_at
                self.book.wakes.append(issued_at)
                return 1, 0
        elif isinstance(command, CheckpointJobs):
            return 0, 1
        elif isinstance(command, RequeueJobs):
            return 0, 2
        return 0, 0

    def trip(self) -> None:
        """GPU nodes are not on the relay's feeder."""

    def reclose(self) -> int:
        return 0

    def settled_key(self, now: float, dwell_s: float) -> tuple[object, ...] | None:
        if now - self.gpu.changed_at < _SETTLED_S:
            return None
        return (self.schedulable, self.gpu.limit_w, self.gpu.load, self.book.key(now, dwell_s))


Unit = MinerUnit | NodeUnit

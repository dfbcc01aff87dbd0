"""The simulated site under one strategy: devices in cohorts of identical units.

Devices of one kind that have received the same commands at the same times are in
the same state, so one unit's physics stands for all of them (a cohort). A command
to part of a cohort splits it; cohorts whose units have settled into the same state
merge again. That is what lets a month of 100,000 devices replay in minutes while
every device still follows the simulators' physics.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import Any

from controller.backtest.site import BacktestSite
from controller.backtest.units import MinerUnit, NodeUnit, SteppedClock, Unit
from controller.policy import DeviceCommand, Fleet, FleetDevice, PlanCommand
from controller.state.domain import Health
from drivers import MiningState

__all__ = ["Cohort", "SimFleet", "Totals"]

# FleetDevice's slot descriptors: setting a slot through its descriptor skips the frozen
# dataclass's __setattr__ guard, which is what makes its __init__ slow.
# What a cohort reads (a plain tuple: compared on every observation), and the FleetDevice
# field each value becomes.
_Reading = tuple[MiningState, float, float | None, float | None, bool | None, float | None, int]
_READING_FIELDS = (
    "state",
    "power_w",
    "power_target_w",
    "gpu_power_limit_w",
    "schedulable",
    "last_state_change_at",
    "cycles_today",
)

_DESCRIPTORS: dict[str, Any] = dict(vars(FleetDevice))
_SET_DEVICE_ID = _DESCRIPTORS["device_id"].__set__
_OTHER_SLOTS = tuple(
    (f.name, _DESCRIPTORS[f.name].__set__) for f in fields(FleetDevice) if f.name != "device_id"
)


@dataclass(slots=True, eq=False)
class Cohort:
    unit: Unit
    kind: int
    members: list[int]  # device indices, ascending
    pending: int = 0  # commands scheduled for later (a staggered wake): not merged meanwhile


@dataclass(slots=True, kw_only=True)
class Totals:
    """What the site did over one accounting period."""

    miner_j: float = 0.0
    gpu_j: float = 0.0
    hash_h: float = 0.0  # hashes (H/s x s)
    ai_usd: float = 0.0
    checkpoints: int = 0  # GPU nodes whose jobs were asked to checkpoint
    requeues: int = 0  # GPU nodes whose jobs were requeued
    by_kind_j: dict[int, float] = field(default_factory=dict)


class SimFleet:
    """Every device of ``site``, starting at ``start`` (unix seconds) hashing / running."""

    def __init__(self, site: BacktestSite, start: float) -> None:
        self.site = site
        self.clock = SteppedClock(0.0)
        self.clock.set(start)
        self.index = {d: i for i, d in enumerate(site.device_ids)}
        by_kind: dict[int, list[int]] = defaultdict(list)
        for i, k in enumerate(site.device_kinds):
            by_kind[k].append(i)
        self.cohorts: list[Cohort] = []
        for k, members in sorted(by_kind.items()):
            kind = site.kinds[k]
            unit: Unit = NodeUnit(kind, self.clock) if kind.is_gpu else MinerUnit(kind, self.clock)
            self.cohorts.append(Cohort(unit, k, members))
        self.wakes = [0] * len(site.device_ids)  # sleep/wake cycles (or drain/resume) per device
        self._pending: list[tuple[float, int, Cohort, tuple[PlanCommand, ...], float]] = []
        self._seq = 0
        self._interruptions = [0, 0]  # checkpoints, requeues since the last take
        # id(cohort) -> (its members list, its last reading, the FleetDevices built from it)
        self._readings: dict[int, tuple[list[int], _Reading, list[FleetDevice]]] = {}
        self._dwell = max(site.settings.min_on_dwell_s, site.settings.min_off_dwell_s)

    # ---- what the controller reads ---------------------------------------------------

    def observe(self, now: float) -> Fleet:
        """Every device as a reading current at ``now``, in device-id order.

        The hot loop of a large backtest. A cohort's readings differ only in the device
        id, and most cohorts read the same from one plan to the next, so a cohort's
        readings are built again only when what they say changes (``observed_at`` is
        ``None``: a simulated unit's reading is always current).
        """
        devices: list[FleetDevice] = [None] * len(self.site.device_ids)  # type: ignore[list-item]
        previous, self._readings = self._readings, {}
        for cohort in self.cohorts:
            unit = cohort.unit
            reading = (*unit.observe(now), unit.book.last_change_at, unit.book.cycles(now))
            known = previous.get(id(cohort))
            if known is not None and known[0] is cohort.members and known[1] == reading:
                built = known[2]
            else:
                built = self._readings_of(cohort, reading)
            self._readings[id(cohort)] = (cohort.members, reading, built)
            for i, device in zip(cohort.members, built, strict=True):
                devices[i] = device
        return Fleet(tuple(devices), now, "backtest")

    def _readings_of(self, cohort: Cohort, reading: _Reading) -> list[FleetDevice]:
        """One FleetDevice per member; all but the first copied slot by slot from the first,
        which takes half the time of the frozen dataclass's ``__init__``."""
        ids = self.site.device_ids
        read: dict[str, Any] = dict(zip(_READING_FIELDS, reading, strict=True))
        first = FleetDevice(
            device_id=ids[cohort.members[0]],
            profile=self.site.kinds[cohort.kind].profile,
            health=Health.HEALTHY,
            observed_at=None,
            source="backtest",
            **read,
        )
        slots = [(setter, getattr(first, name)) for name, setter in _OTHER_SLOTS]
        built = [first]
        new, set_id = object.__new__, _SET_DEVICE_ID
        for i in cohort.members[1:]:
            device = new(FleetDevice)
            set_id(device, ids[i])
            for setter, value in slots:
                setter(device, value)
            built.append(device)
        return built

    def site_power_w(self, now: float) -> float:
        devices = sum(c.unit.power_w(now) * len(c.members) for c in self.cohorts)
        return devices + self.site.other_load_w

    # ---- commands --------------------------------------------------------------------

    def apply(self, commands: tuple[DeviceCommand, ...], now: float) -> None:
        """Carry out a plan's commands: at ``now`` or, staggered, ``delay_s`` later."""
        if not commands:
            return
        per_device: dict[int, tuple[list[PlanCommand], float]] = {}
        for c in commands:
            i = self.index[c.device_id]
            entry = per_device.setdefault(i, ([], c.delay_s))
            entry[0].append(c.command)
        owner = {i: cohort for cohort in self.cohorts for i in cohort.members}
        groups: dict[int, dict[tuple[tuple[PlanCommand, ...], float], list[int]]] = {}
        cohorts_by_id: dict[int, Cohort] = {}
        for i, (cmds, delay) in sorted(per_device.items()):
            cohort = owner[i]
            cohorts_by_id[id(cohort)] = cohort
            groups.setdefault(id(cohort), {}).setdefault((tuple(cmds), delay), []).append(i)
        for key, by_signature in groups.items():
            cohort = cohorts_by_id[key]
            for (todo, delay), members in by_signature.items():
                target = cohort
                if len(members) < len(cohort.members):
                    chosen = set(members)
                    cohort.members = [i for i in cohort.members if i not in chosen]
                    target = Cohort(cohort.unit.clone(), cohort.kind, members)
                    self.cohorts.append(target)
                if delay > 0:
                    target.pending += 1
                    heapq.heappush(self._pending, (now + delay, self._seq, target, todo, now))
                    self._seq += 1
                else:
                    self._run(target, todo, now)

    def _run(self, cohort: Cohort, commands: tuple[PlanCommand, ...], issued_at: float) -> None:
        for command in commands:
            cycles, interruption = cohort.unit.apply(command, issued_at)
            if interruption:
                self._interruptions[interruption - 1] += len(cohort.members)
            if cycles:
                for i in cohort.members:
                    self.wakes[i] += cycles

    def run_until(self, t: float) -> None:
        """Carry out staggered commands due by ``t`` and move the clock to ``t``."""
        while self._pending and self._pending[0][0] <= t:
            at, _, cohort, commands, issued_at = heapq.heappop(self._pending)
            self.clock.set(at)
            self._run(cohort, commands, issued_at)
            cohort.pending -= 1
        self.clock.set(t)

    def trip(self) -> None:
        for cohort in self.cohorts:
            cohort.unit.trip()

    def reclose(self) -> None:
        """The relay closes again: the miners it cut boot (a power cycle each)."""
        for cohort in self.cohorts:
            if cohort.unit.reclose():
                for i in cohort.members:
                    self.wakes[i] += 1

    # ---- accounting ------------------------------------------------------------------

    def take(self, a: float, b: float) -> Totals:
        """What every device did over [a, b]; then merge cohorts that have converged."""
        out = Totals()
        kinds = self.site.kinds
        for cohort in self.cohorts:
            n = len(cohort.members)
            hash_, energy, work = cohort.unit.take(a, b)
            if isinstance(cohort.unit, NodeUnit):
                out.gpu_j += energy * n
                out.ai_usd += kinds[cohort.kind].ai_usd(work * n)
            else:
                out.miner_j += energy * n
                out.hash_h += hash_ * n
            out.by_kind_j[cohort.kind] = out.by_kind_j.get(cohort.kind, 0.0) + energy * n
        out.checkpoints, out.requeues = self._interruptions
        self._interruptions = [0, 0]
        self._merge(b)
        return out

    def _merge(self, now: float) -> None:
        kept: dict[tuple[object, ...], Cohort] = {}
        merged: list[Cohort] = []
        for cohort in self.cohorts:
            if not cohort.members:
                continue
            key = None if cohort.pending else cohort.unit.settled_key(now, self._dwell)
            if key is None:
                merged.append(cohort)
                continue
            full = (cohort.kind, *key)
            first = kept.get(full)
            if first is None:
                kept[full] = cohort
                merged.append(cohort)
            else:
                first.members = sorted(first.members + cohort.members)
        self.cohorts = merged

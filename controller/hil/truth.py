"""What the simulated site really did, in the backtest's own accounting periods.

Read from the simulator's devices (the ground truth the control plane serves), never
from the controller: a miner's energy and hashes are its physics' exact integrals
over each period; a GPU node's energy is its GPUs' closed-form energy plus the node's
base draw, and its paid work the same measure the fast mode counts (GPU-seconds with
jobs, scaled by the throughput the limit leaves); its checkpoints and requeues are the
simulated scheduler's. The other load is the meters' base load. The result is a
:class:`~controller.backtest.stepper.Trace`, which the fast mode's own economics
(:func:`~controller.backtest.economics.settle`) turns into money.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.backtest.inputs import Inputs
from controller.backtest.site import BacktestSite, DeviceKind
from controller.backtest.stepper import Period, Trace
from controller.hil.scheduler import SimScheduler
from simulators.clock import SimClock
from simulators.device import SimDevice, SimMiner
from simulators.gpu.device import GpuNodeDevice
from simulators.gpu.state import throughput_fraction
from simulators.physics import WorkMode

__all__ = ["TruthMeter"]


@dataclass(slots=True, kw_only=True)
class _Node:
    """A GPU node's running totals, sampled on the simulated clock (monotonic seconds)."""

    device: GpuNodeDevice
    kind: DeviceKind
    at: float  # the last sample
    base_j: float = 0.0  # the node's base draw, integrated up to ``at``
    work_gpu_s: float = 0.0  # paid work up to ``at``
    base_w: float = 0.0
    rate: float = 0.0  # paid GPU-seconds per second since the last change
    changes: tuple[float, ...] = ()  # each GPU's last change, to see a rate change
    # (time, cumulative energy, cumulative work) at the last two samples
    history: list[tuple[float, float, float]] = field(default_factory=list)

    def totals_at(self, t: float) -> tuple[float, float]:
        """Cumulative energy (J) and work (GPU-s) at ``t``, between (or just beyond) the
        last two samples: linear there, which a few simulated seconds apart is exact to
        well under a watt-hour (a limit change settles in about a second)."""
        (t0, e0, w0), (t1, e1, w1) = self.history[-2], self.history[-1]
        if t1 <= t0:
            return e1, w1
        f = (t - t0) / (t1 - t0)
        return e0 + (e1 - e0) * f, w0 + (w1 - w0) * f


def _rate(device: GpuNodeDevice) -> float:
    return sum(
        throughput_fraction(g.limit_w, g.demand_w) for g in device.gpus if g.load > 0 and not g.lost
    )


def _gpu_energy(device: GpuNodeDevice, t: float) -> float:
    return sum(g.energy_at(t) for g in device.gpus)


@dataclass(slots=True, kw_only=True)
class TruthMeter:
    """Samples the simulated site on its clock; ``take(a, b)`` closes one period."""

    site: BacktestSite
    inputs: Inputs
    clock: SimClock
    devices: list[SimDevice]
    device_ids: dict[str, str]  # simulated address -> backtest device id
    base_load_w: float
    scheduler: SimScheduler | None = None  # the GPU nodes' drains, resumes and requeues
    _offset: float = 0.0  # unix - monotonic on the simulated clock
    _kinds: dict[str, int] = field(default_factory=dict)
    _nodes: dict[str, _Node] = field(default_factory=dict)
    _marks: dict[str, tuple[float, float]] = field(default_factory=dict)  # nodes at the last b
    _asleep: dict[str, bool] = field(default_factory=dict)
    wakes: dict[str, int] = field(default_factory=dict)
    kind_j: dict[int, float] = field(default_factory=dict)
    periods: list[Period] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._offset = self.clock.time() - self.clock.monotonic()
        index = {d: i for i, d in enumerate(self.site.device_ids)}
        now = self.clock.monotonic()
        for device in self.devices:
            k = self.site.device_kinds[index[self.device_ids[device.address]]]
            self._kinds[device.address] = k
            self.wakes[device.address] = 0
            if isinstance(device, GpuNodeDevice):
                node = _Node(device=device, kind=self.site.kinds[k], at=now)
                self._refresh(node)
                energy = _gpu_energy(device, now)
                node.history = [(now, energy, 0.0), (now, energy, 0.0)]
                self._nodes[device.address] = node
            elif isinstance(device, SimMiner):
                self._asleep[device.address] = device.physics.mode is WorkMode.SLEEP

    @staticmethod
    def _refresh(node: _Node) -> None:
        node.base_w = node.device.base_power_w()
        node.rate = _rate(node.device)
        node.changes = tuple(g.changed_at for g in node.device.gpus)

    def sample(self) -> None:
        """Bring every GPU node's totals to now and count miners' wakes; call often
        (every few simulated seconds): a node's base draw and paid work hold between
        changes, and a change is dated by the GPU's own record of it."""
        now = self.clock.monotonic()
        for node in self._nodes.values():
            changed = tuple(g.changed_at for g in node.device.gpus)
            at = node.at
            if changed != node.changes:
                # Up to the change at the old rate, after it at the new one.
                switch = min(max(*changed, at), now)
                node.work_gpu_s += node.rate * (switch - at)
                node.base_j += node.base_w * (switch - at)
                at = switch
                self._refresh(node)
            node.work_gpu_s += node.rate * (now - at)
            node.base_j += node.base_w * (now - at)
            node.at = now
            energy = _gpu_energy(node.device, now) + node.base_j
            node.history = [node.history[-1], (now, energy, node.work_gpu_s)]
        for device in self.devices:
            if isinstance(device, SimMiner):
                asleep = device.physics.mode is WorkMode.SLEEP
                if self._asleep[device.address] and not asleep:
                    self.wakes[device.address] += 1
                self._asleep[device.address] = asleep

    def open(self, t0: float) -> None:
        """The first period starts at ``t0`` (unix seconds, just past)."""
        self.sample()
        for address, node in self._nodes.items():
            self._marks[address] = node.totals_at(t0 - self._offset)

    def take(self, a: float, b: float) -> None:
        """Close the period [a, b] (unix seconds, on the simulated clock), just past.

        GPU nodes' totals at ``a`` are those this method found at ``b`` last time."""
        self.sample()
        ta, tb = a - self._offset, b - self._offset
        miner_j = gpu_j = hash_h = usd = 0.0
        for device in self.devices:
            k = self._kinds[device.address]
            node = self._nodes.get(device.address)
            if node is not None:
                e_a, w_a = self._marks.get(device.address) or node.totals_at(ta)
                e_b, w_b = node.totals_at(tb)
                self._marks[device.address] = (e_b, w_b)
                energy = e_b - e_a
                gpu_j += energy
                usd += node.kind.ai_usd(w_b - w_a)
            elif isinstance(device, SimMiner):
                h, energy = device.physics.totals(ta, tb)
                miner_j += energy
                hash_h += h
            else:
                continue
            self.kind_j[k] = self.kind_j.get(k, 0.0) + energy
        checkpoints, requeues = (0, 0) if self.scheduler is None else self.scheduler.take()
        self.periods.append(
            Period(
                start=a,
                end=b,
                interval=self.inputs.prices.index(a),
                miner_j=miner_j,
                gpu_j=gpu_j,
                other_j=self.base_load_w * (b - a),
                hash_h=hash_h,
                ai_usd=usd,
                checkpoints=checkpoints,
                requeues=requeues,
            )
        )

    def _cycles(self, address: str) -> int:
        """Sleep/wake cycles of a miner; drain/resume cycles of a GPU node."""
        if address in self._nodes:
            return 0 if self.scheduler is None else self.scheduler.resumes.get(address, 0)
        return self.wakes[address]

    def trace(self, name: str, label: str) -> Trace:
        ordered = sorted(self.devices, key=lambda d: self.device_ids[d.address])
        return Trace(
            name=name,
            label=label,
            periods=list(self.periods),
            wakes=[self._cycles(d.address) for d in ordered],
            device_ids=tuple(self.device_ids[d.address] for d in ordered),
            device_kinds=tuple(self.site.kinds[self._kinds[d.address]].name for d in ordered),
            kind_j={self.site.kinds[k].name: j for k, j in self.kind_j.items()},
        )

"""One GPU's draw, clock and throughput from its work and its power limit: pure functions.

Calibrated on a real H200 (``tests/fixtures/gpu/h200_*``, facts restated in
``docs/gpu-power.md``). The shape, not a line in utilisation:

- draw is concave in the share of time a dense job keeps the GPU busy (the model's
  ``compute_curve``, measured at the default limit): a quarter of the work already draws
  about 40 % of the way from idle to full;
- a dense job sits at its power limit, held a little under it by the firmware
  (``cap_fill``), with the SM clock pulled down from boost, and NVML's throttle reason says
  "SW power cap";
- a memory-bound job draws far less at the same utilisation (``memory_curve``);
- an idle GPU whose process holds a CUDA context stays at boost clock and draws
  ``context_w``; with no context it parks at ``idle_w`` and ``idle_sm_mhz``.

Everything here is a function of its arguments: no clock, no state, no I/O, so a backtest
can call it as freely as the simulator does. Time (the ramp after a change, the boost hold
after a job ends) lives in :mod:`simulators.gpu.state`.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CAP_EXPONENT",
    "THROTTLE_IDLE",
    "THROTTLE_SW_POWER_CAP",
    "Curve",
    "GpuPowerModel",
    "GpuWork",
    "Operating",
    "WorkKind",
    "operating_point",
    "ramp",
    "ramp_energy",
    "throughput_fraction",
]

CAP_EXPONENT = 0.44  # work rate ~ power ** 0.44 under a cap: 60 % of the limit keeps 80 %
THROTTLE_IDLE = 0x1  # NVML clocks-event reason bits (nvml.h)
THROTTLE_SW_POWER_CAP = 0x4


class WorkKind(StrEnum):
    NONE = "none"  # no process on the GPU
    CONTEXT = "context"  # a process holds a CUDA context and launches nothing
    COMPUTE = "compute"  # dense matrix work (training, prefill)
    MEMORY = "memory"  # memory-bound work (LLM decoding, copies)


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuWork:
    """What runs on one GPU: its kind and the share of time it keeps the GPU busy."""

    kind: WorkKind = WorkKind.NONE
    duty: float = 0.0  # 0-1; for NONE and CONTEXT it is 0

    @classmethod
    def of(cls, kind: WorkKind, duty: float) -> GpuWork:
        busy = kind in {WorkKind.COMPUTE, WorkKind.MEMORY}
        return cls(kind=kind, duty=min(1.0, max(0.0, duty)) if busy else 0.0)


@dataclass(frozen=True, slots=True)
class Curve:
    """A piecewise-linear table ``((x, y), ...)``, x ascending; flat beyond its ends."""

    points: tuple[tuple[float, float], ...]

    def __call__(self, x: float) -> float:
        xs = [p[0] for p in self.points]
        i = bisect_left(xs, x)
        if i == 0:
            return self.points[0][1]
        if i >= len(xs):
            return self.points[-1][1]
        (x0, y0), (x1, y1) = self.points[i - 1], self.points[i]
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuPowerModel:
    """One GPU model's power behaviour as data; ``[E]`` in a model table marks estimates."""

    default_limit_w: float
    idle_w: float  # no process: clocks parked
    idle_sm_mhz: int
    context_w: float  # a CUDA context held, nothing running: boost clock
    boost_sm_mhz: int
    compute_curve: Curve  # duty -> mean draw at the default limit, dense compute
    compute_clock: Curve  # duty -> mean SM clock at the default limit, dense compute
    memory_curve: Curve  # duty -> mean draw, memory-bound (clock stays at boost)
    cap_fill: float  # what the firmware holds a capped GPU at, as a share of its limit
    after_load_w: float  # a job just ended: the clock holds boost for boost_hold_s
    boost_hold_s: float
    settle_s: float  # a step in draw settles (within ~2 %) in this long
    temp_base_c: float  # GPU temperature, taken as a line in the draw
    temp_c_per_w: float

    def temp_c(self, power_w: float) -> float:
        return round(self.temp_base_c + self.temp_c_per_w * power_w, 1)

    def demand_w(self, work: GpuWork) -> float:
        """Mean draw at the default limit: the work's own appetite, before any lower cap."""
        if work.kind is WorkKind.COMPUTE:
            return self.compute_curve(work.duty)
        if work.kind is WorkKind.MEMORY:
            return self.memory_curve(work.duty)
        if work.kind is WorkKind.CONTEXT:
            return self.context_w
        return self.idle_w


@dataclass(frozen=True, slots=True, kw_only=True)
class Operating:
    """Where a GPU settles for a given work and limit."""

    power_w: float
    sm_clock_mhz: int
    throttle_reasons: int
    throughput: float  # work done as a share of the same work at the default limit
    utilisation_pct: float


def throughput_fraction(limit_w: float, demand_w: float) -> float:
    """Work rate kept when ``limit_w`` holds a GPU below the ``demand_w`` it would draw."""
    if demand_w <= 0 or limit_w >= demand_w:
        return 1.0
    return float((max(limit_w, 0.0) / demand_w) ** CAP_EXPONENT)


def operating_point(model: GpuPowerModel, work: GpuWork, limit_w: float) -> Operating:
    """The settled draw, clock, throttle reasons and throughput of ``work`` under ``limit_w``."""
    demand = model.demand_w(work)
    ceiling = limit_w * model.cap_fill
    if work.kind in {WorkKind.NONE, WorkKind.CONTEXT}:
        parked = work.kind is WorkKind.NONE
        return Operating(
            power_w=min(demand, ceiling),
            sm_clock_mhz=model.idle_sm_mhz if parked else model.boost_sm_mhz,
            throttle_reasons=THROTTLE_IDLE if parked else 0,
            throughput=0.0,
            utilisation_pct=0.0,
        )
    capped = demand >= ceiling - 0.5
    kept = throughput_fraction(ceiling, demand)
    if work.kind is WorkKind.COMPUTE:
        clock = model.compute_clock(work.duty) * kept
    else:
        clock = model.boost_sm_mhz * kept
    return Operating(
        power_w=min(demand, ceiling),
        sm_clock_mhz=round(clock),
        throttle_reasons=THROTTLE_SW_POWER_CAP if capped else 0,
        throughput=work.duty * kept,
        # NVML's utilisation is a sampled busy flag: a duty cycle of short bursts reads
        # high (75 % of a 200 ms period read 97 % on the H200); this is the plain share.
        utilisation_pct=round(100 * work.duty, 1),
    )


def ramp(start_w: float, target_w: float, dt: float, settle_s: float) -> float:
    """Draw ``dt`` seconds into a change from ``start_w`` to ``target_w``.

    The H200 moves in a straight line and arrives in about ``settle_s`` whatever the
    swing: idle to its 700 W limit in ~1.0 s, 690 W to 127 W in ~0.9 s, and 128 W to
    idle in ~1.0 s once the boost hold ends (tests/simulators/test_gpu_calibration.py).
    """
    if settle_s <= 0 or dt >= settle_s:
        return target_w
    return start_w + (target_w - start_w) * max(0.0, dt) / settle_s


def ramp_energy(start_w: float, target_w: float, dt: float, settle_s: float) -> float:
    """Energy (J) of :func:`ramp` over ``[0, dt]``, in closed form."""
    dt = max(0.0, dt)
    if settle_s <= 0:
        return target_w * dt
    moving = min(dt, settle_s)
    swept = start_w * moving + (target_w - start_w) * moving * moving / (2 * settle_s)
    return swept + target_w * (dt - moving)

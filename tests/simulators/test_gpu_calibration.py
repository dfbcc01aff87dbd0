"""The GPU simulator replays the shape of a real H200's power traces.

``tests/fixtures/gpu/h200_power_trace.csv`` is one H200 (700 W limit) going from idle through
a dense bf16 matmul loop and back; ``h200_duty_trace.csv`` runs the matmul for a share of
every 200 ms, then a memory-bound copy, then an idle process holding its CUDA context. Each
test drives the simulated node as the recording drove the GPU and reads it at the trace's
own sample times; the figures are restated in docs/gpu-power.md.
"""

from __future__ import annotations

import csv
import itertools
import statistics
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulators.clock import SimClock
from simulators.gpu import GpuNodeDevice, lookup_gpu_model
from simulators.gpu.models import H200_POWER
from simulators.gpu.power import (
    THROTTLE_SW_POWER_CAP,
    GpuWork,
    WorkKind,
    operating_point,
    ramp,
    ramp_energy,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gpu"


@dataclass(frozen=True, slots=True)
class Sample:
    t: float
    power_w: float
    sm_mhz: float
    util: float


def _trace() -> list[Sample]:
    with (FIXTURES / "h200_power_trace.csv").open() as f:
        return [
            Sample(
                float(r["t_s"]), int(r["power_mw"]) / 1000, float(r["sm_mhz"]), float(r["util_pct"])
            )
            for r in csv.DictReader(f)
        ]


TRACE = _trace()
IDLE = [s for s in TRACE if s.t < 8.0]  # before the load's process started
BUSY_FROM = next(s.t for s in TRACE if s.power_w > IDLE[-1].power_w + 10)  # the draw leaves idle
LOADED = [s for s in TRACE if s.t >= BUSY_FROM + 3 and s.util >= 95]
LOAD_END = max(s.t for s in TRACE if s.power_w >= 680)  # the last sample at the limit


def _node() -> tuple[GpuNodeDevice, SimClock]:
    clock = SimClock(1e-6)  # moves only when advanced
    node = GpuNodeDevice("127.0.170.9", lookup_gpu_model("H200"), clock)
    node.stop_job()
    clock.advance(10)
    return node, clock


def _to(clock: SimClock, t: float) -> None:
    clock.advance(max(0.0, t - clock.now()))


def _replay(
    node: GpuNodeDevice, clock: SimClock, offset: float, samples: list[Sample]
) -> list[float]:
    """The simulated GPU 0's draw at each sample's time plus ``offset``."""
    out = []
    for s in samples:
        _to(clock, s.t + offset)
        out.append(node.gpus[0].power_w(clock.now()))
    return out


def _first(times: list[float], values: list[float], test: object) -> float:
    return next(t for t, v in zip(times, values, strict=True) if test(v))  # type: ignore[operator]


def test_idle_matches_the_recording() -> None:
    node, clock = _node()
    gpu = node.gpus[0]
    idle_w = statistics.mean(s.power_w for s in IDLE)
    assert gpu.power_w(clock.now()) == pytest.approx(idle_w, abs=0.5)  # 79.6 W
    assert gpu.sm_clock_mhz(clock.now()) == 345 == IDLE[0].sm_mhz
    assert gpu.throttle_reasons(clock.now()) == 0x1  # idle


def test_dense_load_sits_at_the_limit_with_the_clock_held_down() -> None:
    node, clock = _node()
    node.start_job(1.0)
    clock.advance(5)
    gpu, now = node.gpus[0], clock.now()
    draws = sorted(s.power_w for s in LOADED)
    low, high = draws[len(draws) // 20], draws[-len(draws) // 20]  # the middle 90 %
    assert low >= 685  # the recording: 688-695 W against 700 W
    assert high <= 700
    assert low <= gpu.power_w(now) <= high
    clocks = [s.sm_mhz for s in LOADED]
    assert min(clocks) <= gpu.sm_clock_mhz(now) <= max(clocks)  # 1380-1515, not 1980 boost
    assert gpu.sm_clock_mhz(now) < 1980 * 0.8
    assert gpu.throttle_reasons(now) & THROTTLE_SW_POWER_CAP


def test_work_starting_reaches_the_limit_in_about_a_second() -> None:
    node, clock = _node()
    window = [s for s in TRACE if BUSY_FROM <= s.t <= BUSY_FROM + 3]
    start = clock.now()
    node.start_job(1.0)
    sim = _replay(node, clock, start - BUSY_FROM, window)  # trace time -> sim time
    rec = [s.power_w for s in window]
    times = [s.t - BUSY_FROM for s in window]
    for level in (560.0, 660.0):  # the recording: 0.69 s and 0.92 s
        recorded = _first(times, rec, lambda v, lv=level: v >= lv)
        simulated = _first(times, sim, lambda v, lv=level: v >= lv)
        assert simulated == pytest.approx(recorded, abs=0.3), level
    assert sim[-1] == pytest.approx(rec[-1], abs=6)


def test_work_ending_falls_then_holds_boost_then_idles() -> None:
    node, clock = _node()
    node.start_job(1.0)
    clock.advance(10)
    window = [s for s in TRACE if LOAD_END <= s.t <= LOAD_END + 5]
    start = clock.now()
    node.stop_job()
    times = [s.t - LOAD_END for s in window]
    sim_clock, sim_power = [], []
    for s in window:
        _to(clock, start + (s.t - LOAD_END))
        sim_power.append(node.gpus[0].power_w(clock.now()))
        sim_clock.append(node.gpus[0].sm_clock_mhz(clock.now()))
    rec = [s.power_w for s in window]
    # Down to ~127 W in about a second (the recording: under 130 W at 0.94 s)...
    recorded = _first(times, rec, lambda v: v < 130)
    assert _first(times, sim_power, lambda v: v < 130) == pytest.approx(recorded, abs=0.3)
    # ...holding the 1980 MHz boost clock for about 2 s...
    recorded = _boost_ends(times, [s.sm_mhz for s in window])
    assert _boost_ends(times, sim_clock) == pytest.approx(recorded, abs=0.3)
    assert 1.5 < recorded < 2.5
    # ...then idle: 80 W and 345 MHz about 3 s after the load ended.
    recorded = _first(times, rec, lambda v: v < 81)
    assert _first(times, sim_power, lambda v: v < 81) == pytest.approx(recorded, abs=0.4)
    assert sim_clock[-1] == 345


def _boost_ends(times: list[float], clocks: list[float]) -> float:
    """When the clock leaves 1980 MHz, once it has reached it after the load."""
    boosted = _first(times, clocks, lambda v: v >= 1980)
    return next(t for t, v in zip(times, clocks, strict=True) if t > boosted and v < 1980)


def _duty_phases() -> dict[tuple[str, float], dict[str, float]]:
    marks = []
    for line in (FIXTURES / "h200_duty_marks.txt").read_text().split("\n"):
        if line.strip():
            kind, share, at = line.split()
            marks.append((kind, float(share), float(at)))
    with (FIXTURES / "h200_duty_trace.csv").open() as f:
        rows = list(csv.DictReader(f))
    phases = {}
    for (kind, share, _begin), (_, _, end) in itertools.pairwise(marks):
        inside = [r for r in rows if end - 6 <= float(r["t_unix"]) < end]
        phases[(kind, share)] = {
            "power_w": statistics.mean(int(r["power_mw"]) / 1000 for r in inside),
            "sm_mhz": statistics.mean(float(r["sm_mhz"]) for r in inside),
            "capped": statistics.mean(
                1.0 if int(r["clocks_event_reasons"]) & THROTTLE_SW_POWER_CAP else 0.0
                for r in inside
            ),
        }
    return phases


PHASES = _duty_phases()
_KINDS = {"compute": WorkKind.COMPUTE, "memory": WorkKind.MEMORY, "idle": WorkKind.CONTEXT}


@pytest.mark.parametrize("phase", sorted(PHASES), ids=lambda p: f"{p[0]}-{p[1]:g}")
def test_draw_follows_the_work_as_the_duty_trace_did(phase: tuple[str, float]) -> None:
    kind, share = phase
    recorded = PHASES[phase]
    point = operating_point(H200_POWER, GpuWork.of(_KINDS[kind], share), 700)
    assert point.power_w == pytest.approx(recorded["power_w"], rel=0.02)
    assert point.sm_clock_mhz == pytest.approx(recorded["sm_mhz"], rel=0.03)


def test_draw_is_concave_in_the_share_of_time_busy() -> None:
    def draw(share: float) -> float:
        return operating_point(H200_POWER, GpuWork.of(WorkKind.COMPUTE, share), 700).power_w

    idle, full = H200_POWER.context_w, draw(1.0)
    assert (draw(0.25) - idle) / (full - idle) > 0.3  # a quarter of the work: ~35-40 % of the way
    for a, b, c in ((0.25, 0.5, 0.75), (0.5, 0.75, 1.0)):
        assert draw(b) > (draw(a) + draw(c)) / 2  # above every chord
    memory = operating_point(H200_POWER, GpuWork.of(WorkKind.MEMORY, 1.0), 700)
    assert memory.utilisation_pct == 100
    assert memory.power_w == pytest.approx(400, abs=5)  # far below a dense job at the same util
    assert PHASES[("compute", 1.0)]["capped"] > 0.5  # the recording said so, as the model does
    assert operating_point(H200_POWER, GpuWork.of(WorkKind.COMPUTE, 1.0), 700).throttle_reasons


def test_a_held_context_keeps_the_clock_up_and_costs_forty_watts() -> None:
    node, clock = _node()
    node.start_job(1.0)
    clock.advance(10)
    node.stop_job(keep_context=True)
    clock.advance(10)
    gpu = node.gpus[0]
    assert gpu.power_w(clock.now()) == pytest.approx(120.9, abs=1)
    assert gpu.sm_clock_mhz(clock.now()) == 1980
    node.stop_job()
    clock.advance(10)
    assert gpu.power_w(clock.now()) == pytest.approx(79.6, abs=0.5)


def test_a_lower_limit_holds_a_dense_job_under_it_at_a_sublinear_cost() -> None:
    capped = operating_point(H200_POWER, GpuWork.of(WorkKind.COMPUTE, 1.0), 420)
    assert capped.power_w == pytest.approx(420 * H200_POWER.cap_fill)
    assert 0.75 <= capped.throughput <= 0.85  # 60 % of the limit keeps about 80 % of the work
    assert capped.sm_clock_mhz < 1489
    light = operating_point(H200_POWER, GpuWork.of(WorkKind.COMPUTE, 0.25), 420)
    assert light.throughput == 0.25  # a cap above the draw costs nothing
    assert light.throttle_reasons == 0


def test_ramp_energy_is_the_integral_of_the_ramp() -> None:
    steps = 10_000
    for dt in (0.3, 1.0, 2.5):
        numeric = sum(ramp(80, 690, (i + 0.5) * dt / steps, 1.0) for i in range(steps)) * dt / steps
        assert ramp_energy(80, 690, dt, 1.0) == pytest.approx(numeric, rel=1e-6)

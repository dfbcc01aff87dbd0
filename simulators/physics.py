"""A make-independent physical model of one miner, evaluated lazily from the clock.

Nothing ticks. A command (sleep, wake, reboot, mode change) plans a short list of
linear segments from the current state; a read finds the segment under ``now``
and interpolates, and rolling averages integrate the segments exactly. Ten
thousand devices therefore cost nothing between reads.

Phases: RUNNING -> STOPPING -> SLEEP -> BOOTING -> RAMPING -> RUNNING, plus
REBOOTING (offline, before BOOTING) after a reboot.
"""

from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass, replace
from enum import StrEnum

from simulators.clock import SimClock

__all__ = ["MinerPhysics", "Phase", "PhysicsSample", "PhysicsSpec", "Timings", "WorkMode"]

_HISTORY_S = 1800.0  # the longest rolling window devices report (30 min)
_THERMAL_LAG_S = 60.0


class Phase(StrEnum):
    RUNNING = "running"
    STOPPING = "stopping"
    SLEEP = "sleep"
    BOOTING = "booting"
    RAMPING = "ramping"
    REBOOTING = "rebooting"


class WorkMode(StrEnum):
    NORMAL = "normal"
    LOW_POWER = "low_power"
    HIGH_POWER = "high_power"  # a vendor's "high" or "turbo" mode
    SLEEP = "sleep"


@dataclass(frozen=True, slots=True, kw_only=True)
class Timings:
    """Phase durations in simulated seconds (docs/protocols.md §4 defaults)."""

    stop_s: float = 20.0
    boot_s: float = 120.0
    ramp_s: float = 600.0
    reboot_s: float = 90.0
    adjust_s: float = 15.0  # a power target changed without restarting mining

    @classmethod
    def instant(cls) -> Timings:
        """Every transition immediate: for benchmarks and protocol tests."""
        return cls(stop_s=0.0, boot_s=0.0, ramp_s=0.0, reboot_s=0.0, adjust_s=0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhysicsSpec:
    nameplate_hs: float
    nameplate_w: float
    boards: int
    fans: int
    sleep_w: float = 25.0
    boot_w: float = 150.0
    low_power_hash: float = 0.75  # fraction of nameplate hashrate in low-power mode
    low_power_power: float = 0.70  # fraction of nameplate power in low-power mode
    high_power_hash: float = 1.08  # fraction of nameplate hashrate in high-power mode
    high_power_power: float = 1.15
    # Hashrate under a power cap: hash = level_hash * (cap / level_power) ** exponent.
    # Below 1 because chips run more efficiently at lower voltage and frequency.
    cap_exponent: float = 0.85
    max_fan_rpm: int = 6000
    idle_fan_rpm: int = 1200
    ambient_c: float = 25.0
    chip_rise_c: float = 48.0  # chip temperature above ambient at nameplate power
    pcb_rise_c: float = 37.0
    noise: float = 0.015


@dataclass(frozen=True, slots=True, kw_only=True)
class PhysicsSample:
    phase: Phase
    mode: WorkMode
    hashrate_hs: float  # instantaneous, with noise (what "5s" figures show)
    power_w: float
    hashrate_1m_hs: float
    hashrate_5m_hs: float
    hashrate_15m_hs: float
    hashrate_30m_hs: float
    hashrate_avg_hs: float  # since the mining process started
    board_hashrates_hs: tuple[float, ...]
    fans_rpm: tuple[int, ...]
    chip_temps_c: tuple[float, ...]  # per board
    pcb_temps_c: tuple[float, ...]  # per board
    uptime_s: float  # since the mining process started


@dataclass(frozen=True, slots=True, kw_only=True)
class _Segment:
    phase: Phase
    t0: float
    t1: float  # math.inf for the open-ended last segment
    hash0: float
    hash1: float
    power0: float
    power1: float

    def at(self, t: float) -> tuple[float, float]:
        if math.isinf(self.t1) or self.t1 <= self.t0:
            return self.hash1, self.power1
        f = min(1.0, max(0.0, (t - self.t0) / (self.t1 - self.t0)))
        return self.hash0 + (self.hash1 - self.hash0) * f, self.power0 + (
            self.power1 - self.power0
        ) * f

    def integral(self, a: float, b: float) -> tuple[float, float]:
        """Exact integrals of hashrate and power over [a, b] within this segment."""
        lo, hi = max(a, self.t0), min(b, self.t1)
        if hi <= lo:
            return 0.0, 0.0
        (h_lo, p_lo), (h_hi, p_hi) = self.at(lo), self.at(hi)
        width = hi - lo
        return (h_lo + h_hi) / 2 * width, (p_lo + p_hi) / 2 * width


class MinerPhysics:
    """Power, hashrate, fans and temperatures of one miner as functions of time."""

    def __init__(
        self,
        spec: PhysicsSpec,
        clock: SimClock,
        *,
        timings: Timings | None = None,
        seed: int = 0,
        uptime_s: float = 3600.0,
        mode: WorkMode = WorkMode.NORMAL,
    ) -> None:
        self.spec = spec
        self.timings = timings or Timings()
        self._clock = clock
        self._rng = random.Random(seed)
        # Fixed per-unit character: boards differ a little, as real ones do.
        raw = [self._rng.uniform(0.96, 1.04) for _ in range(spec.boards)]
        self._board_share = tuple(r / sum(raw) for r in raw) if raw else ()
        self._board_temp_offset = tuple(self._rng.uniform(-3.0, 3.0) for _ in range(spec.boards))
        self._mode = mode
        self._manual_fan_pct: int | None = None
        self._cap_w: float | None = None
        now = clock.now()
        hash_, power = self._level(mode)
        phase = Phase.SLEEP if mode is WorkMode.SLEEP else Phase.RUNNING
        self._segments: list[_Segment] = [
            _Segment(
                phase=phase,
                t0=now - uptime_s,
                t1=math.inf,
                hash0=hash_,
                hash1=hash_,
                power0=power,
                power1=power,
            )
        ]
        self._started_at = now - uptime_s
        self._pruned_hash_since_start = 0.0

    # ---- commands -------------------------------------------------------------------

    @property
    def mode(self) -> WorkMode:
        return self._mode

    def set_mode(self, mode: WorkMode) -> None:
        """Apply a work mode the way stock firmware does: sleep stops, waking restarts."""
        now = self._clock.now()
        seg = self._segment_at(now)
        if mode is self._mode:
            return
        self._mode = mode
        if seg.phase is Phase.REBOOTING:
            # Still offline: the boot that follows must come up in the new mode.
            self._plan_boot(now, offline_s=seg.t1 - now)
            return
        if mode is WorkMode.SLEEP:
            step = (Phase.STOPPING, self.timings.stop_s, 0.0, self.spec.sleep_w)
            self._plan(now, [step], Phase.SLEEP)
            return
        self._plan_boot(now, offline_s=0.0)

    def reboot(self) -> None:
        """Offline for ``reboot_s``, then boot into the stored mode."""
        self._plan_boot(self._clock.now(), offline_s=self.timings.reboot_s)

    def _plan_boot(self, now: float, *, offline_s: float) -> None:
        t = self.timings
        steps = [
            (Phase.REBOOTING, offline_s, 0.0, self.spec.sleep_w),
            (Phase.BOOTING, t.boot_s, 0.0, self.spec.boot_w),
        ]
        if self._mode is WorkMode.SLEEP:
            steps.append((Phase.STOPPING, 0.0, 0.0, self.spec.sleep_w))
            final = Phase.SLEEP
        else:
            hash_, power = self._level(self._mode)
            steps.append((Phase.RAMPING, t.ramp_s, hash_, power))
            final = Phase.RUNNING
        self._plan(now, steps, final)
        self._restart_at(now + offline_s + t.boot_s)

    @property
    def power_cap_w(self) -> float | None:
        return self._cap_w

    def set_power_cap(self, cap_w: float | None, *, restart: bool, instant: bool = False) -> None:
        """Cap the power of every mining mode (None lifts the cap).

        ``restart`` is how Whatsminer applies a power limit: mining stops (power dips to
        the boot level), then ramps to the capped level. Without it the level moves
        over ``adjust_s``, as a temporary percentage or a power target set in place does.
        While asleep or stopping the cap is only stored: it applies on waking.
        ``instant`` settles at once (a unit configured that way before the simulation).
        """
        now = self._clock.now()
        seg = self._segment_at(now)
        self._cap_w = None if cap_w is None else max(0.0, cap_w)
        if self._mode is WorkMode.SLEEP or seg.phase in {Phase.STOPPING, Phase.SLEEP}:
            return
        if seg.phase is Phase.REBOOTING:
            self._plan_boot(now, offline_s=seg.t1 - now)
            return
        if restart:
            self._plan_boot(now, offline_s=0.0)
            return
        hash_, power = self._level(self._mode)
        if instant:
            self._plan(now, [(Phase.RUNNING, 0.0, hash_, power)], Phase.RUNNING)
            return
        if seg.phase is Phase.BOOTING:
            steps = [
                (Phase.BOOTING, seg.t1 - now, 0.0, self.spec.boot_w),
                (Phase.RAMPING, self.timings.ramp_s, hash_, power),
            ]
        elif seg.phase is Phase.RAMPING:
            steps = [(Phase.RAMPING, max(seg.t1 - now, self.timings.adjust_s), hash_, power)]
        else:
            steps = [(Phase.RAMPING, self.timings.adjust_s, hash_, power)]
        self._plan(now, steps, Phase.RUNNING)

    def restart_mining(self) -> None:
        """The mining process restarts (no reboot): boot, then ramp. Asleep: nothing."""
        if self._mode is WorkMode.SLEEP:
            return
        now = self._clock.now()
        seg = self._segment_at(now)
        self._plan_boot(now, offline_s=seg.t1 - now if seg.phase is Phase.REBOOTING else 0.0)

    def level(self, mode: WorkMode | None = None) -> tuple[float, float]:
        """Settled hashrate (H/s) and power (W) of a mode under the current cap."""
        return self._level(self._mode if mode is None else mode)

    def set_manual_fan(self, percent: int | None) -> None:
        """Fix the fans at a percentage (0 = immersion), or None for automatic control."""
        self._manual_fan_pct = None if percent is None else max(0, min(100, percent))

    # ---- reads ----------------------------------------------------------------------

    def phase(self, t: float | None = None) -> Phase:
        return self._segment_at(self._clock.now() if t is None else t).phase

    def is_offline(self) -> bool:
        return self.phase() is Phase.REBOOTING

    def reading(self, t: float) -> tuple[float, float]:
        """Noise-free hashrate (H/s) and power (W) at ``t``: what a settled meter sees."""
        return self._segment_at(t).at(t)

    def totals(self, a: float, b: float) -> tuple[float, float]:
        """Exact hash (H) and energy (J) over ``[a, b]``, noise-free.

        For accounting (the backtest): ``a`` must lie within the retained history
        (the last half hour before the latest command).
        """
        return self._integral(a, b)

    def fork(self) -> MinerPhysics:
        """An independent unit in exactly this state, on the same clock (segments are
        immutable and shared; the noise generator is shared too)."""
        twin = copy.copy(self)
        twin._segments = list(self._segments)
        return twin

    def settles_at(self) -> float:
        """When the last planned transition ends (the open-ended last segment starts)."""
        return self._segments[-1].t0

    def sample(self) -> PhysicsSample:
        now = self._clock.now()
        seg = self._segment_at(now)
        hash_, power = seg.at(now)
        hash_noisy = self._noisy(hash_)
        power_noisy = self._noisy(power)
        started = min(self._started_at, now)
        uptime = max(0.0, now - started)
        avg = self._since_start_hash(now) / uptime if uptime > 0 else hash_
        power_lagged = self._window_avg(now, _THERMAL_LAG_S)[1]
        load = power_lagged / self.spec.nameplate_w if self.spec.nameplate_w else 0.0
        return PhysicsSample(
            phase=seg.phase,
            mode=self._mode,
            hashrate_hs=hash_noisy,
            power_w=power_noisy,
            hashrate_1m_hs=self._window_avg(now, 60.0)[0],
            hashrate_5m_hs=self._window_avg(now, 300.0)[0],
            hashrate_15m_hs=self._window_avg(now, 900.0)[0],
            hashrate_30m_hs=self._window_avg(now, 1800.0)[0],
            hashrate_avg_hs=avg,
            board_hashrates_hs=tuple(self._noisy(hash_ * s) for s in self._board_share),
            fans_rpm=self._fans(load),
            chip_temps_c=tuple(
                round(self._noisy(self.spec.ambient_c + self.spec.chip_rise_c * load + off), 1)
                for off in self._board_temp_offset
            ),
            pcb_temps_c=tuple(
                round(self._noisy(self.spec.ambient_c + self.spec.pcb_rise_c * load + off), 1)
                for off in self._board_temp_offset
            ),
            uptime_s=uptime,
        )

    # ---- internals ------------------------------------------------------------------

    def _level(self, mode: WorkMode) -> tuple[float, float]:
        s = self.spec
        if mode is WorkMode.SLEEP:
            return 0.0, s.sleep_w
        if mode is WorkMode.LOW_POWER:
            hash_, power = s.nameplate_hs * s.low_power_hash, s.nameplate_w * s.low_power_power
        elif mode is WorkMode.HIGH_POWER:
            hash_, power = s.nameplate_hs * s.high_power_hash, s.nameplate_w * s.high_power_power
        else:
            hash_, power = s.nameplate_hs, s.nameplate_w
        cap = self._cap_w
        if cap is not None and cap < power and power > 0:
            hash_ *= (cap / power) ** s.cap_exponent
            power = cap
        return hash_, power

    def _noisy(self, value: float) -> float:
        if value == 0:
            return 0.0
        return value * (1.0 + self._rng.uniform(-self.spec.noise, self.spec.noise))

    def _fans(self, load: float) -> tuple[int, ...]:
        s = self.spec
        if self._manual_fan_pct is not None:
            target = s.max_fan_rpm * self._manual_fan_pct / 100
        else:
            target = s.idle_fan_rpm + (s.max_fan_rpm * 0.92 - s.idle_fan_rpm) * min(1.0, load)
        return tuple(int(round(self._noisy(target) / 60) * 60) for _ in range(s.fans))

    def _segment_at(self, t: float) -> _Segment:
        for seg in reversed(self._segments):
            if seg.t0 <= t:
                return seg
        return self._segments[0]

    def _plan(
        self, now: float, steps: list[tuple[Phase, float, float, float]], final: Phase
    ) -> None:
        hash_, power = self._segment_at(now).at(now)
        kept = [s for s in self._segments if s.t0 < now]
        if kept:
            last = kept[-1]
            end_hash, end_power = last.at(now)
            kept[-1] = replace(last, t1=now, hash1=end_hash, power1=end_power)  # cut at now
        t = now
        for phase, duration, hash1, power1 in steps:
            if duration <= 0:
                hash_, power = hash1, power1
                continue
            kept.append(
                _Segment(
                    phase=phase,
                    t0=t,
                    t1=t + duration,
                    hash0=hash_,
                    hash1=hash1,
                    power0=power,
                    power1=power1,
                )
            )
            t += duration
            hash_, power = hash1, power1
        kept.append(
            _Segment(
                phase=final, t0=t, t1=math.inf, hash0=hash_, hash1=hash_, power0=power, power1=power
            )
        )
        self._segments = kept
        self._prune(now)

    def _restart_at(self, t: float) -> None:
        """The mining process (re)starts at t: uptime and the since-start average reset."""
        self._started_at = t
        self._pruned_hash_since_start = 0.0

    def _prune(self, now: float) -> None:
        horizon = now - _HISTORY_S - _THERMAL_LAG_S
        while len(self._segments) > 1 and self._segments[0].t1 < horizon:
            old = self._segments.pop(0)
            self._pruned_hash_since_start += old.integral(self._started_at, old.t1)[0]

    def _integral(self, a: float, b: float) -> tuple[float, float]:
        hash_total = power_total = 0.0
        for seg in self._segments:
            h, p = seg.integral(a, b)
            hash_total += h
            power_total += p
        return hash_total, power_total

    def _window_avg(self, now: float, window: float) -> tuple[float, float]:
        start = max(now - window, self._segments[0].t0)
        if now <= start:
            return self._segment_at(now).at(now)
        h, p = self._integral(start, now)
        return h / (now - start), p / (now - start)

    def _since_start_hash(self, now: float) -> float:
        return self._pruned_hash_since_start + self._integral(self._started_at, now)[0]

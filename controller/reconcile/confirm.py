"""Physical confirmation: did the device really do what it acknowledged?

A driver confirms a write by reading the setting back; some firmware reads back
"asleep" and keeps hashing. So after every acknowledged sleep or wake the loop
expects the effect in later telemetry (hashrate near zero, or the unit starting)
within ``confirm_after_s``. Missing it, the command is sent again after each of
``reconfirm_delays_s``; when those run out the device is reported stuck, and the
loop leaves it out of control so the policy sheds elsewhere.

While a grid event's level is due, that schedule would find a lying unit after the
deadline. So a sleep acknowledged during an event is judged on a schedule fitted to
the time left: the first verdict a fifth of the way to the deadline (at least
``confirm_min_s``, at most ``confirm_after_s``). A unit whose readings show no move
towards sleep by then (hashrate, power and chip temperature as before the command)
is sent the command once more and, still unmoved one window later, marked stuck: for
a 60 s deadline, within about 25 s, leaving time to shed others in its place. One
that is on its way down (any of them falling) gets the ordinary window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from controller.clock import Clock
from controller.config.sections import ControlSettings
from controller.reconcile.dispatch import CommandResult, Job, JobOrigin
from controller.state.fleet import DeviceRecord, Fleet
from drivers import MiningState, Sleep, Telemetry, Wake

__all__ = ["Expectation", "Verifier", "is_shed_physically"]

log = logging.getLogger(__name__)

_MAX_WAIT = 10  # confirmation windows to wait for any reading before calling it stuck


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    job: Job
    acked_at: float
    due: float
    resends: int = 0
    before: Telemetry | None = None  # the last reading before the command
    fast: float | None = None  # the window while an event's level is due; None: ordinary


def _moving(before: Telemetry | None, after: Telemetry) -> bool:
    """Any sign of a unit on its way to sleep: hashrate, power or chip temperature falling."""
    if before is None:
        # Nothing read before the command (a restart): compare with the nameplate rate.
        nameplate = after.nameplate_hashrate_hs
        return not nameplate or after.hashrate_hs is None or after.hashrate_hs < 0.8 * nameplate
    rate, was_rate = after.hashrate_hs, before.hashrate_hs
    if was_rate and rate is not None and rate < 0.8 * was_rate:
        return True
    power, was_power = after.power_w, before.power_w
    if was_power and power is not None and not after.power_estimated and power < 0.85 * was_power:
        return True
    hot, now = before.max_temp_c, after.max_temp_c
    return hot is not None and now is not None and now < hot - 3.0


def is_shed_physically(record: DeviceRecord, telemetry: Telemetry, share: float) -> bool:
    """Hashrate (or, without one, measured power) shows the unit is not hashing."""
    spec = record.driver.spec
    nameplate = telemetry.nameplate_hashrate_hs or (spec.nameplate_hs if spec else None)
    if telemetry.hashrate_hs is not None and nameplate:
        return telemetry.hashrate_hs <= share * nameplate
    if telemetry.power_w is not None and spec is not None and not telemetry.power_estimated:
        return telemetry.power_w <= spec.sleep_w + share * (spec.nameplate_w - spec.sleep_w)
    return telemetry.mining_state is MiningState.SLEEPING and telemetry.hashrate_hs is None


class Verifier:
    def __init__(
        self,
        fleet: Fleet,
        settings: ControlSettings,
        *,
        resend: Callable[[Job], None],
        confirmed: Callable[[Expectation, float], None],
        stuck: Callable[[Expectation, str], None],
        due_by: Callable[[float], float | None] | None = None,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._fleet = fleet
        self._due_by = due_by or (lambda at: None)
        self._settings = settings
        self._resend = resend
        self._confirmed = confirmed
        self._stuck = stuck
        self._pending: dict[str, Expectation] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    def expect(self, result: CommandResult) -> None:
        """Register the physical effect an acknowledged command should have."""
        job = result.job
        if not isinstance(job.command, Sleep | Wake):
            self._pending.pop(job.device_id, None)  # a newer command replaces the old wish
            return
        previous = self._pending.get(job.device_id)
        same = previous is not None and previous.job.name == job.name
        resends = previous.resends if previous and same else 0
        record = self._fleet.records.get(job.device_id)
        before = previous.before if previous and same else (record.telemetry if record else None)
        fast = self._fast_window(result.done_at) if isinstance(job.command, Sleep) else None
        window = fast if fast is not None else self._settings.confirm_after_s
        self._pending[job.device_id] = Expectation(
            job=job,
            acked_at=result.done_at,
            due=result.done_at + window,
            resends=resends,
            before=before,
            fast=fast,
        )

    def _fast_window(self, at: float) -> float | None:
        due = self._due_by(at)
        if due is None:
            return None
        settings = self._settings
        return min(settings.confirm_after_s, max(settings.confirm_min_s, (due - at) / 5))

    def forget(self, device_id: str) -> None:
        self._pending.pop(device_id, None)

    def check(self, now: float | None = None) -> None:
        """Compare every open expectation with the latest readings (call after a sweep)."""
        now = self._clock.time() if now is None else now
        share = self._settings.sleeping_share
        for device_id, exp in list(self._pending.items()):
            record = self._fleet.records.get(device_id)
            if record is None:
                del self._pending[device_id]
                continue
            telemetry = record.telemetry
            if telemetry is not None and telemetry.taken_at > exp.acked_at:
                if isinstance(exp.job.command, Sleep):
                    done = is_shed_physically(record, telemetry, share)
                else:
                    done = telemetry.mining_state is not MiningState.SLEEPING
                if done:
                    del self._pending[device_id]
                    self._confirmed(exp, telemetry.taken_at)
                    continue
            if now < exp.due:
                continue
            self._overdue(device_id, exp, record, now)

    def _overdue(self, device_id: str, exp: Expectation, record: DeviceRecord, now: float) -> None:
        delays = self._settings.reconfirm_delays_s
        telemetry = record.telemetry
        if exp.fast is not None:
            read = telemetry is not None and telemetry.taken_at > exp.acked_at
            if read and telemetry is not None and _moving(exp.before, telemetry):
                # On its way down: the ordinary window from the acknowledgement, once.
                ordinary = exp.acked_at + self._settings.confirm_after_s
                self._pending[device_id] = replace(exp, fast=None, due=max(ordinary, now))
                return
            delays = (0.0,)  # unmoved: one more try at once, then stuck
        seen = (
            "no reading since"
            if telemetry is None or telemetry.taken_at <= exp.acked_at
            else (f"{(telemetry.hashrate_hs or 0) / 1e12:.1f} TH/s, {telemetry.mining_state.value}")
        )
        if exp.resends < len(delays):
            nxt = replace(
                exp.job, origin=JobOrigin.RECONFIRM, attempt=0, not_before=now + delays[exp.resends]
            )
            window = exp.fast if exp.fast is not None else self._settings.confirm_after_s
            self._pending[device_id] = replace(
                exp, resends=exp.resends + 1, due=nxt.not_before + window
            )
            log.info(
                "%s: %s acknowledged but not in effect (%s); sending again",
                device_id,
                exp.job.name,
                seen,
            )
            self._resend(nxt)
            return
        del self._pending[device_id]
        reason = f"{exp.job.name} acknowledged {exp.resends + 1} times, not in effect: {seen}"
        self._stuck(exp, reason)

"""Physical confirmation: did the device really do what it acknowledged?

A driver confirms a write by reading the setting back; some firmware reads back
"asleep" and keeps hashing. So after every acknowledged sleep or wake the loop
expects the effect in later telemetry (hashrate near zero, or the unit starting)
within ``confirm_after_s``. Missing it, the command is sent again after each of
``reconfirm_delays_s``; when those run out the device is reported stuck, and the
loop leaves it out of control so the policy sheds elsewhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from controller.config_sections import ControlSettings
from controller.domain import MiningState, Sleep, Telemetry, Wake
from controller.fleet import DeviceRecord, Fleet
from controller.reconcile.dispatch import CommandResult, Job

__all__ = ["Expectation", "Verifier", "is_shed_physically"]

log = logging.getLogger(__name__)

_MAX_WAIT = 10  # confirmation windows to wait for any reading before calling it stuck


@dataclass(frozen=True, slots=True)
class Expectation:
    job: Job
    acked_at: float
    due: float
    resends: int = 0


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
    ) -> None:
        self._fleet = fleet
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
        resends = previous.resends if previous and previous.job.name == job.name else 0
        due = result.done_at + self._settings.confirm_after_s
        self._pending[job.device_id] = Expectation(job, result.done_at, due, resends)

    def forget(self, device_id: str) -> None:
        self._pending.pop(device_id, None)

    def check(self, now: float | None = None) -> None:
        """Compare every open expectation with the latest readings (call after a sweep)."""
        now = time.time() if now is None else now
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
        seen = (
            "no reading since"
            if telemetry is None or telemetry.taken_at <= exp.acked_at
            else (f"{(telemetry.hashrate_hs or 0) / 1e12:.1f} TH/s, {telemetry.mining_state.value}")
        )
        if exp.resends < len(delays):
            nxt = replace(
                exp.job, origin="reconfirm", attempt=0, not_before=now + delays[exp.resends]
            )
            self._pending[device_id] = replace(
                exp, resends=exp.resends + 1, due=nxt.not_before + self._settings.confirm_after_s
            )
            log.info("%s: %s acknowledged but not in effect (%s); sending again",
                     device_id, exp.job.name, seen)  # fmt: skip
            self._resend(nxt)
            return
        del self._pending[device_id]
        reason = f"{exp.job.name} acknowledged {exp.resends + 1} times, not in effect: {seen}"
        self._stuck(exp, reason)

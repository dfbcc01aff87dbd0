"""Physical confirmation of a sleep: on a schedule fitted to a running event's deadline."""

from __future__ import annotations

from controller.clock import SystemClock
from controller.config.sections import ControlSettings
from controller.reconcile.confirm import Expectation, Verifier
from controller.reconcile.dispatch import CommandResult, Job
from controller.reconcile.gate import Priority
from controller.state.domain import DeviceIdentity
from controller.state.fleet import DeviceRecord, Fleet
from drivers import DeviceEndpoint, Make, MiningState, Sleep
from drivers.types import Telemetry

T0 = 1_750_000_000.0
TH = 1e12
# The example config's ordinary schedule: 30 s, then re-sent after 15 s and 60 s.
SETTINGS = ControlSettings(confirm_after_s=30.0, reconfirm_delays_s=(15.0, 60.0))


class _Driver:
    spec = None
    controls = frozenset()


def _record(fleet: Fleet) -> DeviceRecord:
    endpoint = DeviceEndpoint("127.0.130.1")
    record = DeviceRecord(
        identity=DeviceIdentity(
            device_id="s21", make=Make.ANTMINER, model=None, endpoint=endpoint, site="t"
        ),
        driver=_Driver(),  # type: ignore[arg-type]
    )
    fleet.add(record)
    return record


def _reading(at: float, hashrate_th: float, power_w: float, chip_c: float = 70.0) -> Telemetry:
    return Telemetry(
        taken_at=at,
        mining_state=MiningState.HASHING,
        hashrate_hs=hashrate_th * TH,
        power_w=power_w,
        nameplate_hashrate_hs=200 * TH,
        chip_temps_c=(chip_c,),
    )


class _Log:
    def __init__(self) -> None:
        self.resent: list[Job] = []
        self.stuck: list[tuple[float, str]] = []
        self.confirmed: list[float] = []


def _verifier(fleet: Fleet, due: float | None, log: _Log, clock: list[float]) -> Verifier:
    def stuck(exp: Expectation, reason: str) -> None:
        log.stuck.append((clock[0], reason))

    return Verifier(
        fleet,
        SETTINGS,
        resend=log.resent.append,
        confirmed=lambda exp, at: log.confirmed.append(at),
        stuck=stuck,
        due_by=lambda at: due,
        clock=SystemClock(),  # the tests pass ``now`` to every check
    )


def _ack(verifier: Verifier, at: float) -> None:
    job = Job(device_id="s21", command=Sleep(), name="sleep", priority=Priority.GRID)
    verifier.expect(
        CommandResult(job=job, result="applied", code="ok", detail="", sent_at=at - 0.5, done_at=at)
    )


def _run(due: float | None, readings: list[Telemetry]) -> _Log:
    """A unit acknowledging sleep at T0 + 2 s; each reading arrives when it is taken."""
    fleet, log, clock = Fleet("t"), _Log(), [T0]
    record = _record(fleet)
    record.record_success(_reading(T0, 200, 3500))
    verifier = _verifier(fleet, due, log, clock)
    _ack(verifier, T0 + 2)
    for reading in readings:
        clock[0] = reading.taken_at
        record.record_success(reading)
        verifier.check(clock[0])
        if log.resent:  # the re-sent sleep is acknowledged at once
            _ack(verifier, clock[0])
        log.resent.clear()
        if log.stuck or log.confirmed:
            break
    return log


def test_a_lying_unit_is_stuck_within_30_s_of_a_60_s_deadline() -> None:
    lying = [_reading(T0 + 2 + 5 * i, 200, 3500) for i in range(1, 30)]
    log = _run(T0 + 60, lying)
    assert log.stuck
    assert not log.confirmed
    at, reason = log.stuck[0]
    assert at - T0 <= 30
    assert "200.0 TH/s" in reason
    # Without an event the ordinary schedule finds it only after the deadline.
    ordinary = _run(None, lying).stuck
    assert ordinary
    assert ordinary[0][0] - T0 > 60


def test_a_unit_on_its_way_down_gets_the_ordinary_window() -> None:
    # Power and temperature fall slowly, hashrate is not read as low yet: not a liar.
    slow = [_reading(T0 + 2 + 5 * i, 200 - 15 * i, 3500 - 400 * i, 70 - 2 * i) for i in range(1, 7)]
    slow.append(_reading(T0 + 40, 0, 50, 45))
    log = _run(T0 + 60, slow)
    assert not log.stuck
    assert log.confirmed == [T0 + 40]

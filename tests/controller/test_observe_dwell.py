"""A unit put to sleep counts its minimum off-time from the command, not from the next
reading: a plan one second later must not wake it again (issue 10: a Whatsminer was slept
and woken 1.0 s apart within one event)."""

from __future__ import annotations

from controller import policy
from controller.policy import PolicyInputs, PolicySettings, diff, plan
from controller.reconcile.observe import ProfileCache, at_once, observing
from controller.state.domain import DeviceIdentity
from controller.state.fleet import DeviceRecord, Fleet
from drivers import DeviceEndpoint, Make, MiningState, Wake
from drivers.models import lookup_model
from drivers.types import Telemetry
from tests.policy.site import economics, grid

T0 = 1_750_000_000.0


class _Driver:
    spec = lookup_model(Make.WHATSMINER, "M50S")
    controls = spec.controls


def _slept_unit(read_at: float, slept_at: float) -> DeviceRecord:
    record = DeviceRecord(
        identity=DeviceIdentity(
            device_id="m50s",
            make=Make.WHATSMINER,
            model="M50S",
            endpoint=DeviceEndpoint("127.0.130.9"),
            site="t",
        ),
        driver=_Driver(),  # type: ignore[arg-type]
    )
    Fleet("t").add(record)
    record.record_success(
        Telemetry(
            taken_at=read_at - 600,
            mining_state=MiningState.HASHING,
            hashrate_hs=120e12,
            power_w=3300.0,
        )
    )
    record.record_success(
        Telemetry(
            taken_at=read_at,
            mining_state=MiningState.HASHING,
            hashrate_hs=120e12,
            power_w=3300.0,
        )
    )
    record.commanded, record.commanded_at = "sleep", slept_at  # acknowledged, not read since
    return record


def test_the_off_time_counts_from_the_acknowledged_sleep() -> None:
    record = _slept_unit(read_at=T0 - 5, slept_at=T0 - 1)
    (device,) = at_once(observing([record], T0, {}, ProfileCache())).fleet.devices
    assert device.state is MiningState.SLEEPING
    assert device.last_state_change_at == T0 - 1


def test_a_plan_a_second_later_does_not_wake_it() -> None:
    record = _slept_unit(read_at=T0 - 5, slept_at=T0 - 1)
    fleet = at_once(observing([record], T0, {}, ProfileCache())).fleet
    settings = PolicySettings(min_off_dwell_s=900.0, curtail_after_windows=1)
    # Cheap power: hashing pays, so only the minimum off-time keeps it asleep.
    result, _ = plan(
        PolicyInputs(
            now=T0,
            fleet=fleet,
            economics=economics(price=10.0, now=T0),
            grid=grid(now=T0),
            settings=settings,
        ),
        policy.PolicyMemory(),
    )
    assert not [c for c in diff(result, fleet) if isinstance(c.command, Wake)]

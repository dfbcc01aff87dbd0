"""Observed state for the policy: the fleet record turned into ``policy.Fleet``.

Three things change what the policy sees, and each is the controller's to decide:

* a command applied after the device's last reading: the device is shown in the
  commanded state, so a plan made before the next poll does not send it again;
* a device that failed to shed (stuck), that an operator excluded, or a GPU node
  someone else drained in the scheduler: shown with no levers, so the policy counts
  it as fixed load (at its observed draw while it reports one) and sheds elsewhere
  (compensation, for the stuck ones);
* a lever the device answered ``unsupported`` to (a GPU node without a scheduler):
  removed from its profile, so the policy plans without it;
* a GPU node's schedulable state: read from the scheduler, not the node;
* a device an operator forced to sleep: left out of the policy's fleet; the loop
  keeps it asleep itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from controller import policy
from controller.clock import yield_now
from controller.reconcile.scheduler import NodeView
from controller.state.control import Override, OverrideAction
from controller.state.domain import Health
from controller.state.fleet import DeviceRecord
from drivers import Control, Make, MiningState, ModelSpec

__all__ = ["Observation", "ProfileCache", "at_once", "in_turns", "observing"]

_DAY_S = 86_400.0
_TURN = 256  # devices observed between two turns of the event loop


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    fleet: policy.Fleet
    held: tuple[str, ...]  # device ids shown without levers (stuck or excluded)
    forced_sleep: tuple[str, ...]  # device ids an override keeps asleep
    stuck: tuple[str, ...]
    foreign: tuple[tuple[str, str], ...] = ()  # GPU nodes drained by others, with the reason


def _no_view(record: DeviceRecord) -> NodeView:
    return NodeView(None)


class ProfileCache:
    """One profile object per kind of device: the policy groups devices by profile."""

    def __init__(self) -> None:
        self._cache: dict[tuple[object, ...], policy.DeviceProfile] = {}

    def profile(
        self, record: DeviceRecord, held: bool, without: frozenset[Control] = frozenset()
    ) -> policy.DeviceProfile:
        spec = record.driver.spec
        make = record.identity.make
        ai = _ai_class(record) if make is Make.GPU else None
        key = (make, spec, record.model, ai, record.group, held, without)
        found = self._cache.get(key)
        if found is None:
            found = _build(make, spec, record.model, ai, record.group, held)
            if without and found.controls & without:
                found = replace(found, controls=found.controls - without)
            self._cache[key] = found
        return found


def _ai_class(record: DeviceRecord) -> policy.AiClass:
    # Without an operator's word a GPU node's work is treated as contracted: never shed lightly.
    return policy.AiClass(record.ai_class or "contracted")


def _build(
    make: Make,
    spec: ModelSpec | None,
    model: str,
    ai: policy.AiClass | None,
    group: str,
    held: bool,
) -> policy.DeviceProfile:
    if spec is None:
        return policy.DeviceProfile(
            make=make,
            model=model,
            spec=None,
            controls=frozenset(),
            ai_class=ai if make is Make.GPU else None,
            group=group,
        )
    profile = policy.DeviceProfile.for_model(spec, ai_class=ai, group=group)
    return replace(profile, controls=frozenset()) if held else profile


def observing(
    records: Iterable[DeviceRecord],
    now: float,
    overrides: Mapping[str, Override],
    profiles: ProfileCache,
    *,
    nodes: Callable[[DeviceRecord], NodeView] = _no_view,
    without: Mapping[str, frozenset[Control]] | None = None,
) -> Iterator[Observation | None]:
    """``None`` after every ``_TURN`` devices (a pause), then the observation.

    ``nodes`` gives a GPU node's scheduler view; ``without`` the levers a device lacks.
    """
    devices: list[policy.FleetDevice] = []
    held: list[str] = []
    forced: list[str] = []
    stuck: list[str] = []
    foreign: list[tuple[str, str]] = []
    without = without or {}
    day_ago = now - _DAY_S
    for number, record in enumerate(records):
        if number % _TURN == _TURN - 1:
            yield None
        device_id = record.identity.device_id
        override = overrides.get(device_id)
        if override is not None and override.action == OverrideAction.FORCE_SLEEP:
            forced.append(device_id)
            continue
        is_stuck = record.stuck_until > now
        hold = is_stuck or (override is not None and override.action == OverrideAction.EXCLUDE)
        view = nodes(record) if record.identity.make is Make.GPU else NodeView(None)
        if view.foreign is not None:
            foreign.append((device_id, view.foreign))
            hold = True
        if is_stuck:
            stuck.append(device_id)
        if hold:
            held.append(device_id)
        profile = profiles.profile(record, hold, without.get(device_id, frozenset()))
        devices.append(_device(record, profile, now, day_ago, view.schedulable, is_stuck))
    yield Observation(
        fleet=policy.Fleet(tuple(devices), now),
        held=tuple(held),
        forced_sleep=tuple(forced),
        stuck=tuple(stuck),
        foreign=tuple(foreign),
    )


def at_once(steps: Iterator[Observation | None]) -> Observation:
    """The observation :func:`observing` ends with, taken without pausing."""
    for step in steps:
        if step is not None:
            return step
    raise AssertionError("observing ends with the observation")


async def in_turns(steps: Iterator[Observation | None]) -> Observation:
    """:func:`at_once`, letting the other tasks run at each pause: a 10,000-device site
    takes tens of milliseconds to observe, and a command or an API answer waiting that
    long behind it missed the 250 ms round trip (bench/mqtt.py)."""
    for step in steps:
        if step is not None:
            return step
        await yield_now()
    raise AssertionError("observing ends with the observation")


def _device(
    record: DeviceRecord,
    profile: policy.DeviceProfile,
    now: float,
    day_ago: float,
    schedulable: bool | None,
    stuck: bool,
) -> policy.FleetDevice:
    telemetry = record.telemetry
    device_id = record.identity.device_id
    if (
        telemetry is None
        and record.commanded == "sleep"
        and record.health is not Health.UNREACHABLE
    ):
        # Not read yet since a restart, but the journal says it was put to sleep and read
        # back so: counted asleep, so the first plan neither repeats nor undoes the sleep.
        spec = profile.spec
        return policy.FleetDevice(
            device_id=device_id,
            profile=profile,
            state=MiningState.SLEEPING,
            health=Health.HEALTHY,
            power_w=spec.sleep_w if spec else None,
            observed_at=record.commanded_at,
            last_state_change_at=record.state_changed_at,
            cycles_today=record.wakes_since(day_ago),
            schedulable=schedulable,
            stuck=stuck,
        )
    if telemetry is None:
        return policy.FleetDevice(
            device_id=device_id,
            profile=profile,
            state=MiningState.UNKNOWN,
            health=record.health,
            power_w=None,
            observed_at=now,
            schedulable=schedulable,
            stuck=stuck,
        )
    state, power, observed_at = telemetry.mining_state, telemetry.power_w, telemetry.taken_at
    spec = profile.spec
    last_change = record.state_changed_at
    if record.commanded is not None and record.commanded_at > telemetry.taken_at:
        # Applied and read back after this reading: show what the device now does. The
        # change counts from the command, not from the next reading: otherwise a unit put
        # to sleep looked free of its minimum off-time, and a plan a second later could
        # wake it again.
        observed_at = record.commanded_at
        was_asleep = state is MiningState.SLEEPING
        if record.commanded == "sleep":
            state, power = MiningState.SLEEPING, spec.sleep_w if spec else power
        elif record.commanded == "wake":
            state = MiningState.STARTING
            power = spec.nameplate_w if spec else power
        if (state is MiningState.SLEEPING) != was_asleep:
            last_change = max(last_change or 0.0, record.commanded_at)
    health = record.health
    if health is Health.DEGRADED and record.consecutive_failures == 0:
        health = Health.HEALTHY  # device errors in a good reading do not make its state unknown
    is_gpu = profile.is_gpu
    limit = telemetry.power_limit_w
    if is_gpu and record.commanded_limit_w is not None and record.commanded_at > observed_at:
        limit = record.commanded_limit_w * profile.gpu_count  # set and read back since
    return policy.FleetDevice(
        device_id=device_id,
        profile=profile,
        state=state,
        health=health,
        power_w=power,
        observed_at=observed_at,
        last_state_change_at=last_change,
        cycles_today=record.wakes_since(day_ago),
        power_target_w=None if is_gpu else telemetry.power_limit_w,
        gpu_power_limit_w=limit if is_gpu else None,
        schedulable=schedulable,
        stuck=stuck,
    )

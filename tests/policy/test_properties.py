"""Property tests: every rule of the issue, over random small mixed sites."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.policy import (
    Action,
    AiClass,
    DeviceTarget,
    Fleet,
    FleetDevice,
    GridEvent,
    Plan,
    PolicyMemory,
    SafePolicy,
    plan,
)
from controller.state.domain import Health
from drivers import Control, MiningState
from tests.policy.helpers import observed_level, pairs, planned_level
from tests.policy.site import FAST, T0, gpu, grid, inputs, instructed, miner
from tests.policy.strategies import devices

EXAMPLES = settings(max_examples=100, deadline=None)
# FAST's one-window reaction, with the dwell and cycle limits that pin devices in place.
PINNING = replace(
    FAST, min_on_dwell_s=900, min_off_dwell_s=900, max_cycles_per_day=5, wake_stagger_s=15
)
prices = st.sampled_from([-20.0, 20.0, 30.0, 40.0, 50.0, 60.0, 500.0, 3000.0])
caps = st.floats(0.0, 0.25)


def _unknown(device: FleetDevice) -> bool:
    return device.health is Health.UNREACHABLE


def _floor_w(device: FleetDevice, target: DeviceTarget) -> float:
    """What ``device`` draws with every lever it has shed (the plan's target only says
    which lever is left: none, or the GPU power limit of a node that cannot drain)."""
    spec = device.profile.spec
    if _unknown(device) or target.action is Action.HOLD:
        return target.power_w  # no lever to shed: counted as it is
    assert spec is not None
    if target.action in (Action.SLEEP, Action.DRAIN):
        return spec.sleep_w
    rng = device.profile.gpu_power_limit_range_w
    if rng is None or Control.GPU_POWER_LIMIT not in device.profile.controls:
        return spec.nameplate_w  # a device with no lever the policy may pull
    assert target.gpu_power_limit_w == rng[0]
    return spec.nameplate_w - (rng[1] - rng[0])


def _instructed(level_mw: float) -> GridEvent:
    return instructed(level_mw, T0 - 900, as_of=T0, deadline=T0 - 300)


@EXAMPLES
@given(devices(), caps, st.floats(0.0, 0.2), st.floats(0.0, 0.02), prices)
def test_never_above_cap_or_event_counting_reserve_and_unknown(
    fleet: list[FleetDevice], cap: float, level: float, reserve: float, price: float
) -> None:
    policy = replace(PINNING, reserve_mw=reserve)
    site = grid(cap, (_instructed(level),), down=0.01)
    result, _ = plan(inputs(fleet, price=price, site=site, settings=policy))
    limit_w = (min(cap, level) - reserve) * 1e6
    total = 0.0
    for device, target in pairs(result):
        total += target.power_w
        if _unknown(device):
            assert device.profile.spec is not None
            assert target.power_w == device.profile.spec.nameplate_w
    assert abs(total - result.expected_site_w) < 1e-3
    if result.infeasible:
        assert any("cannot meet" in n for n in result.notes)
        # Every lever is shed: each device is planned at the least it can draw, worked out
        # here from its spec rather than read back from the plan.
        for d, t in pairs(result):
            assert abs(t.power_w - _floor_w(d, t)) < 1e-3, (d.device_id, t)
        assert all(
            planned_level(d, t) == 0
            or _unknown(d)
            or t.action is Action.HOLD
            or t.gpu_power_limit_w is not None
            for d, t in pairs(result)
        )
    else:
        assert result.expected_site_w <= max(limit_w, 0.0) + 1e-3


@EXAMPLES
@given(devices(pins=False, unknown=False), caps)
def test_sheds_least_value_per_mw_first_and_contracted_last(
    fleet: list[FleetDevice], cap: float
) -> None:
    result, _ = plan(inputs(fleet, price=-50.0, site=grid(cap)))  # nothing sheds for economics
    rows = pairs(result)

    def value(device: FleetDevice) -> float:
        ai = device.profile.ai_class
        if ai is AiClass.CONTRACTED:
            return float("inf")
        if ai is AiClass.IDLE:
            return 0.0
        if ai is AiClass.INTERRUPTIBLE:
            return 400.0  # the cap lever: $1/GPU-h x 8 x (1 - 0.8) / 4 kW
        spec = device.profile.spec
        assert spec is not None
        return 24.0 / (0.024 * spec.efficiency_j_per_th)

    shed = [(d, t) for d, t in rows if planned_level(d, t) < observed_level(d)]
    kept_on = [(d, t) for d, t in rows if planned_level(d, t) == observed_level(d) > 0]
    for d_shed, t_shed in shed:
        if t_shed.power_target_w is not None or "cap " in t_shed.reason.split(":")[0]:
            continue  # the one partially shed lever may sit anywhere in its class
        for d_on, _ in kept_on:
            assert value(d_on) >= value(d_shed), (d_shed.device_id, d_on.device_id)
    if any(d.profile.ai_class is AiClass.CONTRACTED for d, _ in shed):
        assert any("contracted AI shed" in n for n in result.notes)
        assert all(
            planned_level(d, t) == 0
            for d, t in rows
            if (d.profile.ai_class is not AiClass.CONTRACTED and d.profile.ai_class is not None)
            or (not d.profile.is_gpu and planned_level(d, t) != 1)
        )


@EXAMPLES
@given(devices(), prices, st.sampled_from([None, 0.005, 0.02]), st.sampled_from([None, 0.01]))
def test_dwell_cycles_and_ramp_respected_without_a_grid_event(
    fleet: list[FleetDevice], price: float, down: float | None, up: float | None
) -> None:
    result, _ = plan(
        inputs(fleet, price=price, site=grid(100.0, down=down, up=up), settings=PINNING)
    )
    shed_w = restored_w = 0.0
    for device, target in pairs(result):
        if _unknown(device):
            continue
        before, after = observed_level(device), planned_level(device, target)
        pinned = device.cycles_today >= PINNING.max_cycles_per_day or (
            device.last_state_change_at is not None and T0 - device.last_state_change_at < 900
        )
        if pinned:
            assert before == after, target.reason
        lo = min(before, after)
        hi = max(before, after)
        step_w = _power(device, hi) - _power(device, lo)
        if after < before:
            shed_w += step_w
        elif after > before:
            restored_w += step_w
    interval_min = PINNING.plan_interval_s / 60
    if down is not None:
        assert shed_w <= down * 1e6 * interval_min + 1e-3
    if up is not None:
        assert restored_w <= up * 1e6 * interval_min + 1e-3
    assert not any("overrid" in n for n in result.notes)


def _power(device: FleetDevice, level: int) -> float:
    spec = device.profile.spec
    assert spec is not None
    if level == 0:
        return spec.sleep_w
    if level == 1:
        rng = device.profile.gpu_power_limit_range_w
        assert rng is not None
        return spec.nameplate_w - (rng[1] - rng[0])
    return spec.nameplate_w


@EXAMPLES
@given(devices(unknown=False), st.floats(0.0, 0.05))
def test_grid_deadline_overrides_dwell_and_ramp_and_says_so(
    fleet: list[FleetDevice], level: float
) -> None:
    site = grid(100.0, (_instructed(level),), down=0.001)
    result, _ = plan(inputs(fleet, site=site, price=-50.0, settings=PINNING))
    for device, target in pairs(result):
        pinned = device.cycles_today >= 5 or T0 - (device.last_state_change_at or 0) < 900
        if pinned and planned_level(device, target) < observed_level(device):
            assert "overrides" in target.reason
            assert any("overridden" in n for n in result.notes)


@EXAMPLES
@given(devices(pins=False), prices)
def test_relay_trip_latches_until_cleared(fleet: list[FleetDevice], price: float) -> None:
    _, memory = plan(inputs(fleet, price=price, site=grid(tripped=True)))
    assert memory.relay_latched_at == T0
    later = T0 + 600
    moved = [replace(d, observed_at=later) for d in fleet]
    held, memory2 = plan(inputs(moved, now=later, price=-100.0, site=grid(now=later)), memory)
    assert held.relay_latched
    assert any("relay trip latched" in n for n in held.notes)
    for device, target in pairs(held):
        assert planned_level(device, target) <= observed_level(device)
    cleared = grid(now=later, cleared_at=later)
    free, memory3 = plan(inputs(moved, now=later, price=-100.0, site=cleared), memory2)
    assert not free.relay_latched
    assert memory3.relay_latched_at is None


@EXAMPLES
@given(
    devices(pins=False, unknown=False, max_size=40),
    st.sampled_from([0.005, 0.02, 1.0]),
    st.sampled_from([0.0, 5.0, 30.0]),
)
def test_restores_are_staggered_and_follow_the_ramp(
    fleet: list[FleetDevice], up: float, stagger: float
) -> None:
    policy = replace(FAST, wake_stagger_s=stagger)
    result, _ = plan(inputs(fleet, price=-50.0, site=grid(100.0, up=up), settings=policy))
    restores = sorted(
        (t.delay_s, _power(d, planned_level(d, t)) - _power(d, observed_level(d)))
        for d, t in pairs(result)
        if planned_level(d, t) > observed_level(d)
    )
    rate_w_per_s = up * 1e6 / 60
    cumulative = 0.0
    for n, (delay, step_w) in enumerate(restores):
        assert delay >= n * stagger - 1e-6 or delay >= cumulative / rate_w_per_s - 1e-6
        assert cumulative <= rate_w_per_s * delay + 1e-3
        cumulative += step_w
    assert cumulative <= up * 1e6 * 5 + 1e-3
    if stagger:
        assert len(restores) <= 300 // stagger + 1


@EXAMPLES
@given(devices(), prices, st.sampled_from(list(SafePolicy)))
def test_stale_inputs_fall_back_to_the_safe_policy_and_say_so(
    fleet: list[FleetDevice], price: float, policy: SafePolicy
) -> None:
    chosen = replace(FAST, safe_policy=policy, max_price_age_s=600)
    result, memory = plan(inputs(fleet, price=price, settings=chosen, as_of=T0 - 3600))
    assert result.stale
    assert any(n.startswith("stale power price") and policy.value in n for n in result.notes)
    for device, target in pairs(result):
        if _unknown(device) or device.profile.ai_class is AiClass.CONTRACTED:
            continue
        before, after = observed_level(device), planned_level(device, target)
        if policy is SafePolicy.HOLD or device.profile.is_gpu:
            assert before == after
        elif policy is SafePolicy.SLEEP_MINERS:
            assert after <= before
        else:
            assert after >= before
    assert memory.last_price_at is None  # the stale window is not counted


@EXAMPLES
@given(devices(), prices, prices, caps)
def test_higher_price_never_more_hashing(
    fleet: list[FleetDevice], p1: float, p2: float, cap: float
) -> None:
    low, high = sorted((p1, p2))
    a, _ = plan(inputs(fleet, price=low, site=grid(cap), settings=PINNING))
    b, _ = plan(inputs(fleet, price=high, site=grid(cap), settings=PINNING))
    for (device, ta), (_, tb) in zip(pairs(a), pairs(b), strict=True):
        if device.profile.is_gpu:
            continue  # a node's level follows its contract class, not the hashprice
        assert planned_level(device, tb) <= planned_level(device, ta) or tb.power_w <= ta.power_w
    # Contracted and idle nodes are never shed for economics, only to fit the cap
    # (controller/policy/README.md): when a dearer price sheds interruptible work, an idle
    # node squeezed out at the cheaper price may come back, so the site total can rise.
    # What follows the price is the load that may be shed for it.
    assert price_following_w(b) <= price_following_w(a) + 1e-3


def price_following_w(plan: Plan) -> float:
    return sum(
        target.power_w
        for device, target in pairs(plan)
        if not device.profile.is_gpu or device.profile.ai_class is AiClass.INTERRUPTIBLE
    )


@EXAMPLES
@given(devices(), prices, caps, caps)
def test_lower_cap_never_more_load(
    fleet: list[FleetDevice], price: float, c1: float, c2: float
) -> None:
    low, high = sorted((c1, c2))
    a, _ = plan(inputs(fleet, price=price, site=grid(low), settings=PINNING))
    b, _ = plan(inputs(fleet, price=price, site=grid(high), settings=PINNING))
    for (_, ta), (_, tb) in zip(pairs(a), pairs(b), strict=True):
        assert ta.power_w <= tb.power_w + 1e-6
    assert a.expected_site_w <= b.expected_site_w + 1e-3


@EXAMPLES
@given(devices(), prices, caps, st.randoms(use_true_random=False))
def test_deterministic_whatever_the_input_order(
    fleet: list[FleetDevice], price: float, cap: float, rnd: random.Random
) -> None:
    shuffled = list(fleet)
    rnd.shuffle(shuffled)
    memory = PolicyMemory()
    a, ma = plan(inputs(fleet, price=price, site=grid(cap), settings=PINNING), memory)
    b, mb = plan(inputs(shuffled, price=price, site=grid(cap), settings=PINNING), memory)
    assert list(a.targets()) == list(b.targets())
    assert (a.expected_site_w, a.notes) == (b.expected_site_w, b.notes)
    assert ma.to_json() == mb.to_json()
    assert Fleet(tuple(shuffled), T0).devices == Fleet(tuple(fleet), T0).devices


def _stuck(device: FleetDevice, power_w: float, health: Health) -> FleetDevice:
    """As the loop shows a device that did not act: no levers, still (maybe) reporting."""
    profile = replace(device.profile, controls=frozenset())
    return replace(device, profile=profile, power_w=power_w, health=health, stuck=True)


def _floor(device: FleetDevice) -> float:
    spec = device.profile.spec
    assert spec is not None
    return spec.sleep_w


@EXAMPLES
@given(devices(pins=False, unknown=False), st.data(), caps)
def test_stuck_devices_count_at_their_reading_and_the_plan_names_who_shed_instead(
    fleet: list[FleetDevice], data: st.DataObject, cap: float
) -> None:
    marked: list[FleetDevice] = []
    for device in fleet:
        if data.draw(st.integers(0, 3)) == 0:
            spec = device.profile.spec
            assert spec is not None
            power = data.draw(st.floats(spec.sleep_w, spec.nameplate_w * 1.1))
            health = data.draw(st.sampled_from([Health.HEALTHY, Health.UNREACHABLE]))
            marked.append(_stuck(device, power, health))
        else:
            marked.append(device)
    # At $20/MWh nothing is worth shedding: every shed is the cap's.
    result, _ = plan(inputs(marked, price=20.0, site=grid(cap)))
    excess: dict[str, float] = {}
    shed_w: dict[str, float] = {}
    for device, target in pairs(result):
        spec = device.profile.spec
        assert spec is not None
        if device.stuck:
            counted = spec.nameplate_w if _unknown(device) else device.power_w
            assert target.action is Action.HOLD
            assert target.power_w == counted  # observed draw; nameplate when unreadable
            if counted is not None and counted > _floor(device):
                excess[device.device_id] = counted - _floor(device)
        elif planned_level(device, target) < observed_level(device):
            shed_w[device.device_id] = _level_w(device, observed_level(device)) - target.power_w
    comp = result.compensation
    assert comp.stuck == tuple(sorted(excess))
    assert abs(comp.watts - sum(excess.values())) < 1e-3
    assert set(comp.shed) <= set(shed_w)  # only devices this plan sheds, never a stuck one
    covered = sum(shed_w[d] for d in comp.shed)
    assert covered >= min(comp.watts, sum(shed_w.values())) - 1e-3
    named = {d.device_id: d for d in result.fleet.devices if d.device_id in comp.shed}
    if comp.shed and not any(d.profile.is_gpu for d in named.values()):
        # The fewest miners (one step each): without the smallest, the excess is not covered.
        smallest = min(shed_w[d] for d in comp.shed)
        assert covered - smallest < comp.watts + 1e-3


def _level_w(device: FleetDevice, level: int) -> float:
    spec = device.profile.spec
    assert spec is not None
    if level == 2:
        return spec.nameplate_w
    if level == 0:
        return spec.sleep_w
    rng = device.profile.gpu_power_limit_range_w
    assert rng is not None
    return spec.nameplate_w - (rng[1] - rng[0])


def test_a_device_shed_in_two_steps_covers_with_both() -> None:
    """Seed 1 of the property above, which once failed: a GPU node capped, then drained,
    in one plan was recorded at its last step only, so the record named one 8.2 kW node
    as cover for 11.2 kW of stuck load while 19.3 kW was shed."""
    asleep = MiningState.SLEEPING
    fleet = [
        miner("d000"),
        miner("d001", state=asleep),
        gpu("d002", AiClass.INTERRUPTIBLE),
        _stuck(miner("d003", "S19 XP"), 25.0, Health.UNREACHABLE),
        *(miner(f"d00{i}", state=asleep) for i in (4, 5, 7, 8)),
        _stuck(gpu("d006", AiClass.CONTRACTED), 2000.0, Health.UNREACHABLE),
        gpu("d009", AiClass.IDLE),
    ]
    result, _ = plan(inputs(fleet, price=20.0, site=grid(0.0)))
    comp = result.compensation
    assert comp.stuck == ("d003", "d006")
    shed = {
        d.device_id: _level_w(d, observed_level(d)) - t.power_w
        for d, t in pairs(result)
        if not d.stuck and planned_level(d, t) < observed_level(d)
    }
    assert sum(shed[d] for d in comp.shed) >= comp.watts

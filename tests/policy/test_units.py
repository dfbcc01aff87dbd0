"""Unit tests: formulas, memory, validation, diff, partial levers and purity."""

from __future__ import annotations

import ast
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from controller.policy import (
    Action,
    AiClass,
    CheckpointJobs,
    Drain,
    EventKind,
    GridEvent,
    Hashprice,
    InvalidFleet,
    InvalidGrid,
    InvalidMemory,
    InvalidSettings,
    PolicyMemory,
    PolicySettings,
    RequeueJobs,
    Resume,
    SetGpuPowerLimit,
    break_even_usd_per_mwh,
    diff,
    plan,
)
from controller.policy.fleet import Fleet
from controller.state.domain import Health
from drivers import MiningState, SetPowerTarget, Sleep, Wake
from tests.policy.site import T0, gpu, grid, inputs, instructed, miner


def test_hashprice_from_network_matches_domain_worked_check() -> None:
    price = Hashprice.from_network(
        difficulty=144.4e12,
        subsidy_btc=3.125,
        mean_fees_btc=0.03,
        btc_usd=55_000,
        as_of=T0,
        source="mempool",
    )
    assert price.usd_per_ph_day == pytest.approx(24.2, abs=0.1)


def test_break_evens_match_domain() -> None:
    assert break_even_usd_per_mwh(24, 29.5) == pytest.approx(33.9, abs=0.1)
    assert break_even_usd_per_mwh(24, 17.5) == pytest.approx(57.1, abs=0.1)


def test_memory_round_trips_through_json_and_rejects_garbage() -> None:
    _, memory = plan(inputs([miner("a"), gpu("g")], price=45.0))
    assert PolicyMemory.from_json(memory.to_json()) == memory
    with pytest.raises(InvalidMemory):
        PolicyMemory.from_json('{"version": 99}')
    with pytest.raises(InvalidMemory):
        PolicyMemory.from_json("not json")


def test_bad_inputs_raise_typed_errors() -> None:
    with pytest.raises(InvalidFleet):
        Fleet((miner("a"), miner("a")), T0)
    with pytest.raises(InvalidGrid):
        GridEvent(
            event_id="x", kind=EventKind.INSTRUCTED, start=T0, end=T0 + 60, as_of=T0, source="t"
        )  # no level
    with pytest.raises(InvalidSettings):
        PolicySettings(plan_interval_s=0)


def test_diff_gives_the_minimal_command_set() -> None:
    fleet = [
        miner("a", "S19j Pro"),  # loses money at $45: Sleep
        miner("b", "S21", MiningState.SLEEPING),  # pays: Wake
        miner("c", "S21"),  # already right: nothing
        gpu("g1", AiClass.INTERRUPTIBLE, "drained"),  # pays: Resume (limit already full)
    ]
    result, _ = plan(inputs(fleet, price=45.0))
    commands = [(c.device_id, c.command) for c in diff(result, result.fleet)]
    assert commands == [
        ("a", Sleep()),
        ("b", Wake()),
        ("g1", Resume()),
    ]


def test_drained_interruptible_node_checkpoints_and_requeues() -> None:
    result, _ = plan(inputs([gpu("g1"), gpu("g2", AiClass.CONTRACTED)], site=grid(0.0125)))
    commands = [(c.device_id, c.command) for c in diff(result, result.fleet)]
    assert ("g1", CheckpointJobs()) in commands
    assert ("g1", RequeueJobs()) in commands
    assert any(isinstance(c, Drain) for _, c in commands)
    assert all(d == "g1" for d, _ in commands)


def test_marginal_gpu_node_is_capped_part_way() -> None:
    # 20.4 kW of GPU nodes under 18 kW: the interruptible node's limit drops 2.4 kW
    result, _ = plan(inputs([gpu("g1"), gpu("g2", AiClass.CONTRACTED)], site=grid(0.018)))
    commands = [(c.device_id, c.command) for c in diff(result, result.fleet)]
    assert commands == [("g1", SetGpuPowerLimit(watts_per_gpu=400.0))]


def test_marginal_miner_runs_at_a_lower_power_target() -> None:
    # three M60S (3441 W) under a 9 kW cap: two run, one at 9000 - 2 x 3441 = 2118 W
    fleet = [miner(f"m{i}", "M60S") for i in range(3)]
    result, _ = plan(inputs(fleet, price=10.0, site=grid(0.009)))
    assert result.expected_site_w == pytest.approx(9000)
    partial = [t for t in result.targets() if t.power_target_w is not None]
    assert len(partial) == 1
    assert partial[0].power_target_w == pytest.approx(2118)
    assert partial[0].reason.startswith("run at 2,118 W: interconnect cap 9 kW")
    assert SetPowerTarget(pytest.approx(2118)) in [c.command for c in diff(result, result.fleet)]


def test_unknown_devices_count_at_nameplate_and_are_held() -> None:
    fleet = [miner("a", "S21", health=Health.UNREACHABLE), miner("b", "S21")]
    result, _ = plan(inputs(fleet, price=10.0))
    target = result.target("a")
    assert target.action is Action.HOLD
    assert target.power_w == 3500
    assert any("unknown state counted at nameplate" in n for n in result.notes)


def test_idle_nodes_are_drained_first_under_a_grid_limit() -> None:
    fleet = [gpu("g-idle", AiClass.IDLE), miner("m", "S19j Pro")]
    result, _ = plan(inputs(fleet, price=10.0, site=grid(0.011)))
    assert result.target("g-idle").action is Action.DRAIN
    assert result.target("m").action is Action.RUN


def test_policy_imports_only_the_domain_records_and_the_standard_library() -> None:
    # The domain records: the controller's (state.domain) and the drivers' (types and the
    # model table), imported from their own modules, never from the drivers' package surface.
    records = {"controller.state.domain", "drivers.types", "drivers.models"}
    package = Path(__file__).resolve().parents[2] / "controller" / "policy"
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                allowed = (
                    name in records
                    or name.startswith("controller.policy")
                    or top in sys.stdlib_module_names
                    or top == "__future__"
                )
                assert allowed, f"{source.name} imports {name}"


def test_site_load_outside_the_fleet_comes_off_the_devices_budget() -> None:
    """The meter sees cooling and offices too; a level applies to all of it."""
    fleet = [miner(f"m{i:02}", "S21") for i in range(10)]  # 35 kW of miners
    event = instructed(0.040)
    without, _ = plan(inputs(fleet, price=20.0, site=grid(1.0, (event,))))
    base = replace(grid(1.0, (event,)), other_load_w=20_000.0)
    with_other, _ = plan(inputs(fleet, price=20.0, site=base))
    assert without.expected_site_w <= 40_000.0
    assert with_other.expected_site_w <= 40_000.0 - 20_000.0 + 1e-6
    assert with_other.expected_site_w < without.expected_site_w
    assert any("other site load 20.0 kW" in note for note in with_other.notes)
    assert with_other.other_load_w == 20_000.0  # the plan says what it took off the limit
    with pytest.raises(InvalidGrid):
        replace(base, other_load_w=-1.0)


def test_ramping_miners_report_how_far_they_draw_below_their_count() -> None:
    """The meter less the counted fleet is other load only once ramps are taken out."""
    settled = replace(miner("m00", "S21"), power_w=3400.0)
    ramping = replace(miner("m01", "S21", MiningState.STARTING), power_w=900.0)
    unread = miner("m02", "S21", MiningState.STARTING)  # no reading: counted, no gap known
    result, _ = plan(inputs([settled, ramping, unread], price=20.0, site=grid(1.0)))
    per_miner_w = result.counted_now_w / 3
    assert result.ramp_shortfall_w == pytest.approx(per_miner_w - 900.0)

"""Table-driven scenario: a day of 5-minute prices with a 4CP window and an instructed event.

Hand-computed at hashprice $24/PH/day: break-evens are S19j Pro $34, S19 XP $47 and
S21 $57 per MWh; an interruptible node's cap lever is worth $400/MWh
($1/GPU-h x 8 x 20% throughput lost / 4 kW) and its drain lever $1,524/MWh.
Hysteresis is two windows each way, so a decision lands one plan after the price moves.
Ramp-up is 0.02 MW/min: at most 100 kW restored per 5-minute plan, most valuable first.

ERS-10 (30 kW by 19:10) needs, from 135.4 kW: every miner asleep (-93.85 kW), both
interruptible nodes capped (-8 kW) and one drained (-4.2 kW) = 29.35 kW. Contracted AI
keeps running. Restoring at 20:00 within 100 kW: drain and caps (12.2), S21 (34.75),
S19 XP (29.85), then 7 of 10 S19j Pro (7 x 2.925 = 20.475), the last 3 at 20:05.
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from controller.policy import Action, Plan
from tests.policy.day import at, run_day

# (from, until, S19j Pro running, S19 XP running, S21 running, interruptible levels)
EXPECTED = [
    ("00:00", "06:05", 10, 10, 10, ("full", "full")),
    ("06:05", "10:05", 0, 10, 10, ("full", "full")),  # $40 > $34 for two windows
    ("10:05", "14:05", 0, 0, 10, ("full", "full")),  # $50 > $47
    ("14:05", "15:05", 0, 0, 0, ("full", "full")),  # spike $200 > $57; AI $400 still pays
    ("15:05", "15:55", 0, 10, 10, ("full", "full")),  # $45: S21 and S19 XP back
    ("15:55", "16:15", 0, 0, 0, ("drain", "drain")),  # 4CP 16:00-16:15, one plan of lead
    ("16:15", "17:05", 0, 10, 10, ("full", "full")),
    ("17:05", "17:35", 0, 0, 0, ("cap", "cap")),  # $1,000 > cap lever $400 < drain $1,524
    ("17:35", "17:40", 9, 10, 10, ("full", "full")),  # ramp-up: 72.6 kW + 9 x 2.925 kW
    ("17:40", "19:00", 10, 10, 10, ("full", "full")),
    ("19:00", "20:00", 0, 0, 0, ("drain", "cap")),  # ERS-10 30 kW
    ("20:00", "20:05", 7, 10, 10, ("full", "full")),  # ramp-up again
    ("20:05", "24:00", 10, 10, 10, ("full", "full")),
]


def _row(now: float) -> tuple[int, int, int, tuple[str, str]]:
    for start, until, a, b, c, gpus in EXPECTED:
        if at(start) <= now < at(until):
            return a, b, c, gpus
    raise AssertionError(now)


def _summary(result: Plan) -> tuple[int, int, int, tuple[str, str]]:
    running = {"a": 0, "b": 0, "c": 0}
    interruptible = []
    for target in result.targets():
        prefix = target.device_id.split("-")[0]
        if prefix in running and target.action is Action.RUN:
            running[prefix] += 1
        if prefix == "gc":
            assert target.action is Action.RUN
            assert target.gpu_power_limit_w == 5600
        if prefix == "gi":
            if target.action is Action.DRAIN:
                interruptible.append("drain")
            else:
                interruptible.append("full" if target.gpu_power_limit_w == 5600 else "cap")
    return running["a"], running["b"], running["c"], (interruptible[0], interruptible[1])


@pytest.fixture(scope="module")
def day() -> list[tuple[float, Plan]]:
    return list(run_day())


def test_every_step_matches_the_hand_computed_table(day: list[tuple[float, Plan]]) -> None:
    assert len(day) == 288
    for now, result in day:
        assert _summary(result) == _row(now), result.reason_counts()
        assert result.expected_site_w <= result.limit_w + 1e-6


def test_reasons_at_the_turning_points(day: list[tuple[float, Plan]]) -> None:
    plans = dict(day)
    assert plans[at("06:05")].target("a-S19jPro-00").reason == (
        "sleep: break-even $34/MWh < price $40/MWh"
    )
    assert plans[at("06:00")].target("a-S19jPro-00").reason == (
        "run: price $40/MWh above break-even $34/MWh for 1 of 2 windows"
    )
    assert plans[at("19:00")].target("c-S21-00").reason == (
        "sleep: grid event ERS-10 needs 30 kW by 19:10"
    )
    assert plans[at("19:00")].target("gc-h200-0").reason == "run: contracted AI"
    assert plans[at("15:55")].target("gi-h200-1").reason == "drain: 4CP window 4CP-0715 16:00-16:15"
    assert (
        plans[at("16:10")]
        .target("gi-h200-1")
        .reason.endswith("restore deferred by grid headroom under 4CP window 4CP-0715 16:00-16:15")
    )
    assert plans[at("17:05")].target("gi-h200-0").reason == (
        "cap 1,600 W: interruptible AI $400/MWh < price $1,000/MWh"
    )
    assert plans[at("20:00")].target("a-S19jPro-09").reason == (
        "sleep: break-even $34/MWh >= price $30/MWh; restore deferred by ramp-up limit 0.02 MW/min"
    )


def test_restores_are_staggered_and_expected_power_is_hand_computed(
    day: list[tuple[float, Plan]],
) -> None:
    plans = dict(day)
    assert plans[at("12:00")].expected_site_w == pytest.approx(
        10 * 25 + 10 * 25 + 10 * 3500 + 4 * 10200
    )
    event = plans[at("19:00")]
    assert event.expected_site_w == pytest.approx(29_350)
    assert event.limit_w == pytest.approx(30_000)
    restore = plans[at("20:00")]
    delays = sorted(restore.delays.values())
    # the first node's drain-restore (4.2 kW) and cap-restore land together, once the
    # 20 kW/min ramp has covered the first 4.2 kW: 12.6 s; then each unit in turn
    assert delays[0] == pytest.approx(12.6)
    assert len(delays) == 2 + 10 + 10 + 7
    assert all(b > a for a, b in pairwise(delays))
    assert delays[-1] <= 300

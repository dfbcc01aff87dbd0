"""The money, checked against sums done by hand on one-device sites."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.backtest import Contract, ProgramEvent, run_backtest
from controller.backtest.economics import settle
from controller.backtest.stepper import simulate
from controller.backtest.strategies import AlwaysMine, Hashpivot
from controller.policy import EventKind
from tests.backtest.helpers import STEP, T0, inputs, program_event, write_site

S21 = {"make": "antminer", "model": "S21", "start": "127.0.190.1"}  # 200 TH/s, 3,500 W
H200 = {"make": "gpu", "model": "H200", "start": "127.0.190.2"}


def test_one_miner_hashing_and_energy(tmp_path: Path) -> None:
    site = write_site(tmp_path, [S21])
    result = settle(simulate(site, inputs([30.0] * 4), AlwaysMine()), inputs([30.0] * 4))
    t = result.totals
    # 0.2 PH/s for an hour at $45/PH/day; 3.5 kWh at $30/MWh.
    assert t["hashing"] == pytest.approx(0.2 * 45 / 24)
    assert t["energy_index"] == pytest.approx(-3.5e-3 * 30)
    assert result.energy_mwh == pytest.approx(3.5e-3)
    assert t["total"] == pytest.approx(0.375 - 0.105)


def test_one_gpu_node_ai_revenue(tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        [H200],
        config={
            "devices": [{"make": "gpu", "address": "127.0.190.2", "ai_class": "contracted"}],
            "economics": {"contracted_usd_per_gpu_hour": 2.0},
        },
    )
    data = inputs([30.0] * 4)
    result = settle(simulate(site, data, AlwaysMine()), data)
    # Eight GPUs at $2/GPU-hour, uncapped: a dense job busy 95 % of the time draws 678.3 W
    # on the measured H200 curve (630 W at 75 %, 690.4 W at 100 %; docs/gpu-power.md).
    assert result.totals["ai"] == pytest.approx(16.0)
    node_w = 8 * 678.3 + 1000 + 0.95 * 700  # GPUs + the node's base draw at load 0.95
    assert result.energy_mwh == pytest.approx(node_w / 1e6)
    assert result.totals["energy_index"] == pytest.approx(-node_w / 1e6 * 30)


def test_fixed_block_with_resale(tmp_path: Path) -> None:
    site = write_site(tmp_path, [S21])
    contract = Contract(block_mw=0.01, block_usd_per_mwh=40.0)
    data = inputs([100.0] * 4, contract=contract)
    t = settle(simulate(site, data, AlwaysMine()), data).totals
    # Each hour: 10 kWh of block at $40 bought, 3.5 kWh used, 6.5 kWh sold at $100.
    assert t["energy_block"] == pytest.approx(-0.4)
    assert t["power_credits"] == pytest.approx(6.5e-3 * 100)
    assert t["energy_index"] == pytest.approx(0.0)


def test_block_too_small_buys_the_rest_at_index(tmp_path: Path) -> None:
    site = write_site(tmp_path, [S21])
    data = inputs([100.0] * 4, contract=Contract(block_mw=0.002, block_usd_per_mwh=40.0))
    t = settle(simulate(site, data, AlwaysMine()), data).totals
    assert t["energy_block"] == pytest.approx(-2e-3 * 40)
    assert t["energy_index"] == pytest.approx(-1.5e-3 * 100)
    assert t["power_credits"] == 0


def _event(**kw: object) -> ProgramEvent:
    figures: dict[str, object] = {
        "event_id": "ers",
        "due": T0 + STEP + 600,
        "level_mw": 0.001,
        "obligation_mw": 0.003,
        "capacity_usd_per_mw_h": 100.0,
        "penalty_usd_per_mwh": 1000.0,
    }
    return program_event(EventKind.INSTRUCTED, **(figures | kw))


def test_event_payment_when_met_and_penalty_when_missed(tmp_path: Path) -> None:
    site = write_site(tmp_path, [S21])
    data = inputs([30.0] * 4, events=(_event(),))
    met = settle(simulate(site, data, Hashpivot()), data)
    missed = settle(simulate(site, data, AlwaysMine()), data)
    # Met: 0.003 MW of obligation x 0.5 h x $100/MW-h.
    assert met.events[0].met
    assert met.totals["dr_payments"] == pytest.approx(0.15)
    assert met.totals["dr_penalties"] == 0
    # Missed: the miner draws 3.5 kW from the deadline (10 min in) to the end (20 min):
    # 2.5 kW over the level for 1/3 h at $1,000/MWh, and no payment.
    assert not missed.events[0].met
    assert missed.totals["dr_payments"] == 0
    assert missed.totals["dr_penalties"] == pytest.approx(-2.5e-3 / 3 * 1000)
    assert missed.events[0].worst_mw == pytest.approx(3.5e-3)


def test_4cp_charge_on_the_peak_interval(tmp_path: Path) -> None:
    site = write_site(tmp_path, [S21])
    window = program_event(EventKind.FOUR_CP, event_id="cp", transmission_usd_per_mw=20_000.0)
    data = inputs([30.0, 30.0, 80.0, 30.0], events=(window,))
    always = settle(simulate(site, data, AlwaysMine()), data)
    # The peak is the window's highest-price interval (the third); the miner draws 3.5 kW.
    assert always.totals["transmission_4cp"] == pytest.approx(-20_000 * 3.5e-3)
    assert always.ledger.usd["transmission_4cp"][2] == pytest.approx(-70.0)
    ours = settle(simulate(site, data, Hashpivot()), data)
    # The policy sleeps the miner for the window: only its 25 W of sleep draw is charged.
    assert ours.totals["transmission_4cp"] == pytest.approx(-20_000 * 25e-6, rel=0.05)


def test_upper_bound_at_least_every_strategy_on_a_small_case(tmp_path: Path) -> None:
    site = write_site(tmp_path, [S21, H200], base_load_w=1000)
    prices = [20.0, 25.0, 900.0, 3000.0, 40.0, -5.0, 150.0, 60.0]
    data = inputs(
        prices,
        contract=Contract(block_mw=0.005, block_usd_per_mwh=50),
        events=(_event(level_mw=0.009),),
    )
    run = run_backtest(site, data)
    bound = run.result("upper_bound")
    assert bound is not None
    for r in run.results:
        assert bound.totals["total"] >= r.totals["total"] - 1e-9, r.name

"""Orderings the strategies must obey, on the shipped August 2023 prices."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from controller.backtest import BacktestRun, Inputs, PriceSeries, run_backtest
from controller.backtest.cli import data_path
from controller.backtest.programs import load_contract, load_events
from controller.backtest.series import read_hashprice, read_prices
from controller.backtest.site import load_backtest_site

SITE = Path("deploy/examples/site-small.yaml")
_DAY = 96


@cache
def _spike_days() -> BacktestRun:
    """Aug 17-18 (the month's highest prices, with an ERS-10 event) on the example site."""
    full = read_prices(data_path("ercot-2023-08", "rtm_spp_15min.csv"), step_s=900)
    first = 16 * _DAY
    prices = PriceSeries(
        start=full.start + first * 900,
        step_s=900,
        values=full.values[first : first + 2 * _DAY],
        name=full.name,
        source=full.source,
    )
    span = (prices.start, prices.end)
    events = tuple(
        e
        for e in load_events(
            data_path("examples", "events-2023-08.yaml"), span=(full.start, full.end)
        )
        if span[0] <= e.start and e.end <= span[1]
    )
    site = load_backtest_site(SITE, None)
    inputs = Inputs(
        prices=prices,
        hashprice=read_hashprice("45", start=span[0], end=span[1]),
        events=events,
        contract=load_contract(data_path("examples", "contract-2023-08.yaml")),
    )
    assert events, "the example events should include one in these days"
    return run_backtest(site, inputs)


def test_upper_bound_is_never_below_any_strategy() -> None:
    run = _spike_days()
    bound = run.result("upper_bound")
    assert bound is not None
    for r in run.results:
        assert bound.totals["total"] >= r.totals["total"], r.name


def test_always_mine_never_earns_credits_in_a_spike_another_strategy_sold() -> None:
    run = _spike_days()
    always = run.result("always_mine")
    assert always is not None
    prices = run.inputs.prices.values
    sold = 0
    for other in run.results:
        if other.name == "always_mine":
            continue
        for i, price in enumerate(prices):
            credits = other.ledger.usd["power_credits"][i]
            if price > 1000 and credits > 0:
                sold += 1
                assert always.ledger.usd["power_credits"][i] <= credits
                assert always.ledger.usd["power_credits"][i] == 0
    assert sold, "some strategy should have sold power back during a spike"


def test_hashpivot_meets_the_event_and_beats_always_mine() -> None:
    run = _spike_days()
    ours, always = run.result("hashpivot"), run.result("always_mine")
    assert ours is not None
    assert always is not None
    assert all(e.met for e in ours.events)
    assert ours.totals["total"] > always.totals["total"]

"""Backtest: replay a month of real prices and grid programs through the policy engine.

The live controller's policy (:mod:`controller.policy`) decides, with the settings of
the site's own config, on simulated time; the devices follow the simulators' physics
(:mod:`simulators.physics`, the makes' model modules, :mod:`simulators.gpu.state`).
Strategies operators use today run on the same inputs, and an upper bound knows every
price in advance. ``hashpivot backtest SITE.yaml`` (:mod:`.cli`) is the command.

Python API::

    site = load_backtest_site(Path("deploy/examples/site-small.yaml"), None)
    run = run_backtest(site, inputs)        # inputs: Inputs(prices=..., hashprice=...)
    print(summary_table(run))
"""

from __future__ import annotations

from controller.backtest.economics import COMPONENTS, EventOutcome, StrategyResult
from controller.backtest.errors import BacktestError, MissingExtra
from controller.backtest.inputs import Inputs
from controller.backtest.programs import Contract, ProgramEvent, load_contract, load_events
from controller.backtest.report import result_dict, summary_table, verdict
from controller.backtest.run import STRATEGIES, BacktestRun, run_backtest, without_ai
from controller.backtest.series import PriceSeries, read_hashprice, read_prices
from controller.backtest.site import BacktestSite, load_backtest_site

__all__ = [
    "COMPONENTS",
    "STRATEGIES",
    "BacktestError",
    "BacktestRun",
    "BacktestSite",
    "Contract",
    "EventOutcome",
    "Inputs",
    "MissingExtra",
    "PriceSeries",
    "ProgramEvent",
    "StrategyResult",
    "load_backtest_site",
    "load_contract",
    "load_events",
    "read_hashprice",
    "read_prices",
    "result_dict",
    "run_backtest",
    "summary_table",
    "verdict",
    "without_ai",
]

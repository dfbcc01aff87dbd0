"""One backtest: every strategy on the same site and inputs."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from controller.backtest.bound import upper_bound
from controller.backtest.economics import StrategyResult, settle
from controller.backtest.errors import BacktestError
from controller.backtest.fleet import SimFleet
from controller.backtest.inputs import Inputs
from controller.backtest.progress import Progress
from controller.backtest.site import BacktestSite
from controller.backtest.stepper import simulate
from controller.backtest.strategies import (
    AlwaysMine,
    FixedStrike,
    Hashpivot,
    Strategy,
    fleet_break_even,
)

__all__ = ["STRATEGIES", "BacktestRun", "run_backtest", "without_ai"]

STRATEGIES = ("hashpivot", "always_mine", "fixed_strike", "no_ai", "upper_bound")


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestRun:
    site: BacktestSite
    inputs: Inputs
    results: tuple[StrategyResult, ...]
    strike_usd_per_mwh: float
    wall_s: float

    def result(self, name: str) -> StrategyResult | None:
        return next((r for r in self.results if r.name == name), None)


def without_ai(site: BacktestSite) -> BacktestSite:
    """The same site with its GPU nodes' nameplate power given to more of its best miner."""
    miners = [
        (k, kind)
        for k, kind in enumerate(site.kinds)
        if not kind.is_gpu and kind.profile.controls and kind.spec.nameplate_ths
    ]
    if not miners:
        raise BacktestError("no AI: the site has no controllable miner to give GPU power to")
    best_k, best = min(miners, key=lambda kk: (kk[1].spec.efficiency_j_per_th, kk[1].name))
    gpu_w = sum(site.kinds[k].nameplate_w for k in site.device_kinds if site.kinds[k].is_gpu)
    extra = round(gpu_w / best.nameplate_w)
    kept = [
        (d, k)
        for d, k in zip(site.device_ids, site.device_kinds, strict=True)
        if not site.kinds[k].is_gpu
    ]
    kept += [(f"noai-{n:05d}", best_k) for n in range(extra)]
    kept.sort()
    return replace(
        site,
        device_ids=tuple(d for d, _ in kept),
        device_kinds=tuple(k for _, k in kept),
    )


def run_backtest(
    site: BacktestSite,
    inputs: Inputs,
    *,
    strategies: tuple[str, ...] = STRATEGIES,
    strike_usd_per_mwh: float | None = None,
    progress: Progress | None = None,
) -> BacktestRun:
    began = time.perf_counter()
    unknown = sorted(set(strategies) - set(STRATEGIES))
    if unknown:
        raise BacktestError(
            f"unknown strategy {unknown[0]!r} (known: {', '.join(STRATEGIES)})",
            field="--strategies",
        )
    strike = strike_usd_per_mwh
    if strike is None:
        strike = fleet_break_even(SimFleet(site, inputs.start), inputs.hashprice.values[0])
    settings = site.settings
    runs: list[tuple[str, BacktestSite, Strategy]] = []
    for name in strategies:
        if name == "hashpivot":
            runs.append((name, site, Hashpivot()))
        elif name == "always_mine":
            runs.append((name, site, AlwaysMine()))
        elif name == "fixed_strike":
            runs.append(
                (
                    name,
                    site,
                    FixedStrike(
                        strike=strike,
                        curtail_after=settings.curtail_after_windows,
                        resume_after=settings.resume_after_windows,
                    ),
                )
            )
        elif name == "no_ai":
            no_ai = Hashpivot("no_ai", "no AI (GPU power to hashing)")
            runs.append((name, without_ai(site), no_ai))
    results: list[StrategyResult] = []
    for n, (name, on_site, strategy) in enumerate(runs):
        if progress is not None:
            progress.stage(name, n * inputs.steps)
        trace = simulate(
            on_site, inputs, strategy, progress=None if progress is None else progress.update
        )
        results.append(settle(trace, inputs))
    if "upper_bound" in strategies:
        results.append(upper_bound(site, inputs))
    if progress is not None:
        progress.close()
    order = {name: i for i, name in enumerate(strategies)}
    results.sort(key=lambda r: order[r.name])
    return BacktestRun(
        site=site,
        inputs=inputs,
        results=tuple(results),
        strike_usd_per_mwh=strike,
        wall_s=time.perf_counter() - began,
    )

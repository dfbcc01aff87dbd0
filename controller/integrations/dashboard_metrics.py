"""Metrics the Grafana dashboard (deploy/grafana) needs beyond the fleet and loop families:
the site's limit, the economics the policy used and their ages, the price forecast, each
model's break-even, and how long the last plan took. Built at scrape time, like the other
collectors.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from controller import policy
from controller.reconcile.loop import Reconciler
from controller.reconcile.meter import SitePowerWatch
from controller.state.control import ControlState
from controller.state.fleet import Fleet

__all__ = ["DashboardCollector"]

_HORIZONS = (("0h", 0.0), ("1h", 3600.0), ("4h", 4 * 3600.0), ("24h", 86_400.0))


class DashboardCollector(Collector):
    def __init__(
        self,
        fleet: Fleet,
        loop: Reconciler,
        power: SitePowerWatch,
        economics: Callable[[float], policy.Economics],
        max_ages_s: dict[str, float],
        state: ControlState,
    ) -> None:
        self._fleet, self._loop, self._power = fleet, loop, power
        self._economics, self._max_ages_s = economics, max_ages_s
        self._state = state

    def collect(self) -> Iterator[Metric]:
        site, now = self._fleet.site, time.time()
        labels = ["site"]
        limit = GaugeMetricFamily(
            "hashpivot_site_limit_watts",
            "The most the current plan lets the whole site draw (cap or event, less reserve)",
            labels=labels,
        )
        plan_s = GaugeMetricFamily(
            "hashpivot_plan_duration_seconds", "Wall time of the last plan", labels=labels
        )
        view = self._loop.view
        if view is not None:
            if math.isfinite(view.plan.limit_w):
                limit.add_metric([site], view.plan.limit_w + view.plan.other_load_w)
            plan_s.add_metric([site], self._loop.stats.last_plan_s)
        economics = self._economics(now)
        price = GaugeMetricFamily(
            "hashpivot_power_price_usd_per_mwh", "Power price the policy uses",
            labels=["site", "source"],
        )  # fmt: skip
        price.add_metric([site, economics.power_price.source], economics.power_price.usd_per_mwh)
        hashprice = GaugeMetricFamily(
            "hashpivot_hashprice_usd_per_ph_day", "Hashprice the policy uses",
            labels=["site", "source"],
        )  # fmt: skip
        hashprice.add_metric([site, economics.hashprice.source], economics.hashprice.usd_per_ph_day)
        break_even = GaugeMetricFamily(
            "hashpivot_model_break_even_hashprice_usd_per_ph_day",
            "Hashprice below which a model loses money at the current power price",
            labels=["site", "make", "model"],
        )
        seen: set[tuple[str, str]] = set()
        for record in self._fleet:
            spec = record.driver.spec
            key = (record.identity.make.value, record.model)
            if spec is None or key in seen or not math.isfinite(spec.efficiency_j_per_th):
                continue
            seen.add(key)
            # docs/domain.md: E J/TH draws E kW per PH/s, so a day costs 0.024 * E MWh per PH.
            value = economics.power_price.usd_per_mwh * 0.024 * spec.efficiency_j_per_th
            break_even.add_metric([site, *key], value)
        yield from (limit, plan_s, price, hashprice, break_even)
        yield from self._forecast(site, now)
        ages = GaugeMetricFamily(
            "hashpivot_economics_age_seconds",
            "Age of each input the policy reads: prices, hashprice and the site power sample",
            labels=["site", "signal", "source"],
        )
        sample = self._power.latest()
        inputs = [
            ("power_price", economics.power_price.as_of, economics.power_price.source),
            ("hashprice", economics.hashprice.as_of, economics.hashprice.source),
            ("site_power", sample.at, sample.source),
        ]
        if self._state.forecast:
            inputs.append(("price_forecast", self._state.forecast_as_of,
                           self._state.forecast_source))  # fmt: skip
        for name, as_of, source in inputs:
            ages.add_metric([site, name, source], max(0.0, now - as_of))
        max_age = GaugeMetricFamily(
            "hashpivot_economics_max_age_seconds",
            "Age past which the policy stops trusting an input",
            labels=["site", "signal"],
        )
        for name, seconds in sorted(self._max_ages_s.items()):
            max_age.add_metric([site, name], seconds)
        yield from (ages, max_age)

    def _forecast(self, site: str, now: float) -> Iterator[Metric]:
        """The forecast's price for the interval holding now and fixed horizons ahead: a
        time series of what was expected, to set beside the price that came."""
        family = GaugeMetricFamily(
            "hashpivot_power_price_forecast_usd_per_mwh",
            "Power price the latest forecast gives for now plus the horizon",
            labels=["site", "source", "horizon"],
        )
        source = self._state.forecast_source
        for horizon, ahead_s in _HORIZONS:
            at = now + ahead_s
            for start, end, usd_per_mwh in self._state.forecast:
                if start <= at < end:
                    family.add_metric([site, source, horizon], usd_per_mwh)
                    break
        yield family

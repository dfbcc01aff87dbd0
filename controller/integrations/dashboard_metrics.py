"""Metrics the Grafana dashboard (deploy/grafana) needs beyond the fleet and loop families:
the site's limit, the economics the policy used and their ages, the price forecast, each
model's break-even, and how long the last plan took. Built at scrape time, like the other
collectors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from controller.integrations.families import ReadModelCollector, site_gauge
from controller.service.read_model import Forecast, ReadModel

__all__ = ["DashboardCollector"]

_HORIZONS = (("0h", 0.0), ("1h", 3600.0), ("4h", 4 * 3600.0), ("24h", 86_400.0))


class DashboardCollector(ReadModelCollector):
    def families(self, read: ReadModel, now: float) -> Iterator[Metric]:
        site = read.site
        view = read.plan_view()
        limit_w = plan_s = None
        if view is not None:
            if math.isfinite(view.plan.limit_w):
                limit_w = view.plan.limit_w + view.plan.other_load_w
            plan_s = read.loop_stats().last_plan_s
        limit = site_gauge(
            "hashpivot_site_limit_watts",
            "The most the current plan lets the whole site draw (cap or event, less reserve)",
            site,
            limit_w,
        )
        plan_time = site_gauge(
            "hashpivot_plan_duration_seconds", "Wall time of the last plan", site, plan_s
        )
        economics = read.economics(now)
        price = GaugeMetricFamily(
            "hashpivot_power_price_usd_per_mwh",
            "Power price the policy uses",
            labels=["site", "source"],
        )
        price.add_metric([site, economics.power_price.source], economics.power_price.usd_per_mwh)
        hashprice = GaugeMetricFamily(
            "hashpivot_hashprice_usd_per_ph_day",
            "Hashprice the policy uses",
            labels=["site", "source"],
        )
        hashprice.add_metric([site, economics.hashprice.source], economics.hashprice.usd_per_ph_day)
        break_even = GaugeMetricFamily(
            "hashpivot_model_break_even_hashprice_usd_per_ph_day",
            "Hashprice below which a model loses money at the current power price",
            labels=["site", "make", "model"],
        )
        seen: set[tuple[str, str]] = set()
        for record in read.records():
            spec = record.driver.spec
            key = (record.identity.make.value, record.model)
            if spec is None or key in seen or not math.isfinite(spec.efficiency_j_per_th):
                continue
            seen.add(key)
            # docs/domain.md: E J/TH draws E kW per PH/s, so a day costs 0.024 * E MWh per PH.
            value = economics.power_price.usd_per_mwh * 0.024 * spec.efficiency_j_per_th
            break_even.add_metric([site, *key], value)
        yield from (limit, plan_time, price, hashprice, break_even)
        forecast = read.forecast()
        yield _forecast(site, now, forecast)
        ages = GaugeMetricFamily(
            "hashpivot_economics_age_seconds",
            "Age of each input the policy reads: prices, hashprice and the site power sample",
            labels=["site", "signal", "source"],
        )
        sample = read.site_power()
        inputs = [
            ("power_price", economics.power_price.as_of, economics.power_price.source),
            ("hashprice", economics.hashprice.as_of, economics.hashprice.source),
            ("site_power", sample.at, sample.source),
        ]
        if forecast is not None:
            inputs.append(("price_forecast", forecast.as_of, forecast.source))
        for name, as_of, source in inputs:
            ages.add_metric([site, name, source], max(0.0, now - as_of))
        max_age = GaugeMetricFamily(
            "hashpivot_economics_max_age_seconds",
            "Age past which the policy stops trusting an input",
            labels=["site", "signal"],
        )
        for name, seconds in sorted(read.max_ages_s().items()):
            max_age.add_metric([site, name], seconds)
        yield from (ages, max_age)


def _forecast(site: str, now: float, forecast: Forecast | None) -> Metric:
    """The forecast's price for the interval holding now and fixed horizons ahead: a
    time series of what was expected, to set beside the price that came."""
    family = GaugeMetricFamily(
        "hashpivot_power_price_forecast_usd_per_mwh",
        "Power price the latest forecast gives for now plus the horizon",
        labels=["site", "source", "horizon"],
    )
    if forecast is None:
        return family
    for horizon, ahead_s in _HORIZONS:
        at = now + ahead_s
        for start, end, usd_per_mwh in forecast.intervals:
            if start <= at < end:
                family.add_metric([site, forecast.source, horizon], usd_per_mwh)
                break
    return family

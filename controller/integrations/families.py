"""The shape most of the controller's metrics share: one family, labelled by site, with
one sample (or none, while there is nothing to say). Collectors build their families at
scrape time (prometheus_client's way to export state that lives elsewhere)."""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

__all__ = ["site_counter", "site_gauge"]


def site_gauge(name: str, documentation: str, site: str, value: float | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["site"])
    if value is not None:
        family.add_metric([site], value)
    return family


def site_counter(name: str, documentation: str, site: str, value: float) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=["site"])
    family.add_metric([site], value)
    return family

"""The hub's metrics, built from its per-source stats at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from controller.signals.hub import SignalHub

__all__ = ["SignalCollector"]


class SignalCollector(Collector):
    """Labelled by ``site`` as every other hashpivot family is, so one dashboard query
    (``site=~"$site"``) selects a site's signals beside its power."""

    def __init__(self, hub: SignalHub, *, site: str) -> None:
        self._hub = hub
        self._site = site

    def collect(self) -> Iterator[Metric]:
        now = self._hub.clock.time()
        age = GaugeMetricFamily(
            "hashpivot_signal_age_seconds",
            "Age of the newest value (prices, hashprice) or last contact (events, relay, "
            "flags) of each signal source",
            labels=["site", "source"],
        )
        stale = GaugeMetricFamily(
            "hashpivot_signal_stale",
            "1 while a source is past its staleness limit",
            labels=["site", "source"],
        )
        updates = CounterMetricFamily(
            "hashpivot_signal_updates",
            "Updates accepted from each source",
            labels=["site", "source"],
        )
        errors = CounterMetricFamily(
            "hashpivot_signal_errors",
            "Refused input and failed reads, by source and kind",
            labels=["site", "source", "kind"],
        )
        for name, stats in sorted(self._hub.stats.items()):
            value = stats.age_s(now)
            if value is not None:
                age.add_metric([self._site, name], value)
            stale.add_metric([self._site, name], 1.0 if stats.stale else 0.0)
            updates.add_metric([self._site, name], float(stats.updates))
            for kind, count in sorted(stats.errors.items()):
                errors.add_metric([self._site, name, kind.value], float(count))
        yield from (age, stale, updates, errors)

"""The shapes the controller's metrics share: a family labelled by site with one sample (or
none, while there is nothing to say), or with one sample per key of a count. Collectors
build their families at scrape time from the read model (prometheus_client's way to
export state that lives elsewhere)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from controller.service.read_model import ReadModel

__all__ = ["ReadModelCollector", "site_counter", "site_gauge", "site_labelled"]


def site_gauge(name: str, documentation: str, site: str, value: float | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["site"])
    if value is not None:
        family.add_metric([site], value)
    return family


def site_counter(name: str, documentation: str, site: str, value: float) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=["site"])
    family.add_metric([site], value)
    return family


def site_labelled(
    kind: type[GaugeMetricFamily | CounterMetricFamily],
    name: str,
    documentation: str,
    site: str,
    label: str,
    values: Iterable[tuple[str, float]],
) -> Metric:
    """One sample per (key, value), labelled ``site`` and ``label``=key."""
    family = kind(name, documentation, labels=["site", label])
    for key, value in values:
        family.add_metric([site, key], float(value))
    return family


class ReadModelCollector(Collector):
    """Families built from the read model at each scrape."""

    def __init__(self, read: ReadModel) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        return self.families(self._read, self._read.now())

    def families(self, read: ReadModel, now: float) -> Iterator[Metric]:
        raise NotImplementedError

"""The bridge's counters as Prometheus metrics, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from controller.integrations.families import site_counter, site_gauge, site_labelled

if TYPE_CHECKING:
    from controller.integrations.mqtt.bridge import MqttBridge

__all__ = ["MqttCollector"]


class MqttCollector(Collector):
    def __init__(self, bridge: MqttBridge) -> None:
        self._bridge = bridge

    def collect(self) -> Iterator[Metric]:
        bridge, site = self._bridge, self._bridge.view.site
        dropped = CounterMetricFamily(
            "hashpivot_mqtt_dropped_messages",
            "Outbound messages dropped (only ever telemetry: events and replies are kept)",
            labels=["site", "lane"],
        )
        dropped.add_metric([site, "telemetry"], float(bridge.outbox.dropped_telemetry))
        commands = site_labelled(
            CounterMetricFamily,
            "hashpivot_mqtt_commands",
            "Commands received over MQTT by outcome (accepted, duplicate, malformed, "
            "unauthorised, not_found, invalid, failed)",
            site,
            "result",
            sorted(bridge.executor.results.items()),
        )
        yield from (
            site_gauge(
                "hashpivot_mqtt_connected",
                "1 while the MQTT broker connection is up",
                site,
                1.0 if bridge.connected else 0.0,
            ),
            site_counter(
                "hashpivot_mqtt_connects",
                "Connections made to the MQTT broker",
                site,
                float(bridge.connects),
            ),
            site_counter(
                "hashpivot_mqtt_published_messages",
                "Messages handed to the broker",
                site,
                float(bridge.published),
            ),
            dropped,
            site_gauge(
                "hashpivot_mqtt_queued_messages",
                "Outbound messages waiting",
                site,
                float(len(bridge.outbox)),
            ),
            commands,
        )

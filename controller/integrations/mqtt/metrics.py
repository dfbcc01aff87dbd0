"""The bridge's counters as Prometheus metrics, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from controller.integrations.mqtt.bridge import MqttBridge

__all__ = ["MqttCollector"]


class MqttCollector(Collector):
    def __init__(self, bridge: MqttBridge) -> None:
        self._bridge = bridge

    def collect(self) -> Iterator[Metric]:
        bridge, site = self._bridge, self._bridge.view.site
        connected = GaugeMetricFamily(
            "hashpivot_mqtt_connected", "1 while the MQTT broker connection is up", labels=["site"]
        )
        connected.add_metric([site], 1.0 if bridge.connected else 0.0)
        connects = CounterMetricFamily(
            "hashpivot_mqtt_connects", "Connections made to the MQTT broker", labels=["site"]
        )
        connects.add_metric([site], float(bridge.connects))
        published = CounterMetricFamily(
            "hashpivot_mqtt_published_messages", "Messages handed to the broker", labels=["site"]
        )
        published.add_metric([site], float(bridge.published))
        dropped = CounterMetricFamily(
            "hashpivot_mqtt_dropped_messages",
            "Outbound messages dropped (only ever telemetry: events and replies are kept)",
            labels=["site", "lane"],
        )
        dropped.add_metric([site, "telemetry"], float(bridge.outbox.dropped_telemetry))
        queued = GaugeMetricFamily(
            "hashpivot_mqtt_queued_messages", "Outbound messages waiting", labels=["site"]
        )
        queued.add_metric([site], float(len(bridge.outbox)))
        commands = CounterMetricFamily(
            "hashpivot_mqtt_commands",
            "Commands received over MQTT by outcome (accepted, duplicate, malformed, "
            "unauthorised, not_found, invalid, failed)",
            labels=["site", "result"],
        )
        for result, count in sorted(bridge.executor.results.items()):
            commands.add_metric([site, result], float(count))
        yield from (connected, connects, published, dropped, queued, commands)

"""MQTT: the site's status, plan, events and telemetry out; operator commands in.

The topic schema is in docs/mqtt.md. :class:`MqttBridge` needs only the read model
(:class:`controller.service.ReadModel`) and the command service.
"""

from controller.integrations.mqtt.bridge import MqttBridge
from controller.integrations.mqtt.metrics import MqttCollector

__all__ = ["MqttBridge", "MqttCollector"]

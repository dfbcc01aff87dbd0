"""MQTT: the site's status, plan, events and telemetry out; operator commands in.

The topic schema is in docs/mqtt.md. :class:`MqttBridge` needs only a read model
(:class:`SiteView`) and the command service.
"""

from controller.integrations.mqtt.bridge import MqttBridge
from controller.integrations.mqtt.controller_view import ControllerView
from controller.integrations.mqtt.metrics import MqttCollector
from controller.integrations.mqtt.view import SiteView

__all__ = ["ControllerView", "MqttBridge", "MqttCollector", "SiteView"]

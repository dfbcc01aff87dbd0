"""The shipped MQTT examples stay loadable and in step with the small site."""

from __future__ import annotations

from pathlib import Path

import yaml

from controller.config.settings import load_config

ROOT = Path(__file__).parents[2]


def test_the_mqtt_example_loads_and_controls_the_small_site() -> None:
    mqtt = load_config(ROOT / "controller/examples/hashpivot-mqtt.yaml")
    small = load_config(ROOT / "controller/examples/hashpivot-small.yaml")
    assert mqtt.mqtt is not None
    assert mqtt.mqtt.topic_prefix(mqtt.site) == "hashpivot/small/"
    hosts = [(g.make, g.ai_class, g.hosts()) for g in mqtt.devices]
    assert hosts == [(g.make, g.ai_class, g.hosts()) for g in small.devices]


def test_compose_runs_the_broker_with_the_shipped_config() -> None:
    compose = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())
    broker = compose["services"]["mosquitto"]
    assert broker["image"].startswith("eclipse-mosquitto:2.")  # pinned, not latest
    assert any("mosquitto/mosquitto.conf" in v for v in broker["volumes"])
    assert "hashpivot-mqtt.yaml" in " ".join(compose["services"]["controller"]["command"])

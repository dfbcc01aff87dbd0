"""Home Assistant MQTT discovery for the site-level entities (retained configs).

Each entity reads one field of the retained status document, and is available while
the controller's ``online`` topic says so. Topic ids may only use [a-zA-Z0-9_-].
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from controller.integrations.mqtt.payloads import dumps
from controller.integrations.mqtt.topics import Retained, Topics

__all__ = ["discovery_messages"]

# (object, component, name, status field, unit, device class)
_ENTITIES = (
    ("metered_power", "sensor", "Site power", "hashpivot_site_metered_power_watts", "W", "power"),
    ("commanded_power", "sensor", "Planned site power", "hashpivot_site_commanded_power_watts",
     "W", "power"),
    ("limit_power", "sensor", "Site power limit", "hashpivot_site_limit_watts", "W", "power"),
    ("hashrate", "sensor", "Site hashrate", "hashpivot_site_hashrate_hashes_per_second",
     "H/s", None),
    ("paused", "binary_sensor", "Control paused", "hashpivot_control_paused", None, None),
)  # fmt: skip


def discovery_messages(
    ha_prefix: str, topics: Topics, site: str, version: str
) -> Iterator[tuple[str, bytes]]:
    node = re.sub(r"[^a-zA-Z0-9_-]", "_", f"hashpivot_{site}")
    device = {
        "identifiers": [node],
        "name": f"hashpivot {site}",
        "manufacturer": "hashpivot",
        "sw_version": version,
    }
    for key, component, name, field, unit, device_class in _ENTITIES:
        object_id = f"{node}_{key}"
        config: dict[str, object] = {
            "name": name,
            "unique_id": object_id,
            "object_id": object_id,
            "state_topic": topics.of(Retained.STATUS),
            "availability_topic": topics.of(Retained.ONLINE),
            "device": device,
        }
        if component == "binary_sensor":
            config["value_template"] = f"{{{{ 'ON' if value_json.{field} else 'OFF' }}}}"
        else:
            config["value_template"] = f"{{{{ value_json.{field} }}}}"
            config["state_class"] = "measurement"
        if unit is not None:
            config["unit_of_measurement"] = unit
        if device_class is not None:
            config["device_class"] = device_class
        yield f"{ha_prefix}/{component}/{object_id}/config", dumps(config)

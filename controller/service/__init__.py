"""The seam between the controller's parts and its inputs and outputs.

- :class:`ControlService` (``control.py``): what may be asked for. Every change is
  journaled and committed before it takes effect, then the loop plans.
- :class:`ReadModel` (``read_model.py``): what may be read. The API, the metrics, the
  operator page, the MQTT bridge and the demo's summary read the site through it, never
  through the controller's parts; :class:`LiveReadModel` (``live.py``) is the one
  implementation, over the running parts.
"""

from __future__ import annotations

from controller.service.control import (
    ControlService,
    EventInThePast,
    EventSpec,
    InvalidRequest,
    NotFound,
)
from controller.service.live import LiveReadModel
from controller.service.read_model import (
    ControlRow,
    DeviceRow,
    Forecast,
    JournalHealth,
    PlanGroup,
    PlanRow,
    PlanSummary,
    ReadModel,
    SignalRow,
    SiteStatus,
    TelemetryRow,
)

__all__ = [
    "ControlRow",
    "ControlService",
    "DeviceRow",
    "EventInThePast",
    "EventSpec",
    "Forecast",
    "InvalidRequest",
    "JournalHealth",
    "LiveReadModel",
    "NotFound",
    "PlanGroup",
    "PlanRow",
    "PlanSummary",
    "ReadModel",
    "SignalRow",
    "SiteStatus",
    "TelemetryRow",
]

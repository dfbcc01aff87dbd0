"""The controller's domain model.

Device identity and health live here. Readings, commands and the model table are the
drivers' frozen types: controller code (and the pure policy engine) imports them from
the drivers' public surface, ``drivers``. Nothing here does I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.types import DeviceEndpoint, Make

__all__ = ["DeviceIdentity", "Health"]


class Health(enum.StrEnum):
    """The controller's view of whether a device answers, not what it is doing."""

    UNKNOWN = "unknown"  # not polled yet
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # answered with errors, or failed once after being healthy
    UNREACHABLE = "unreachable"  # failed several polls in a row


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceIdentity:
    """Who a device is on the site: stable id, make, model, where it sits and listens."""

    device_id: str
    make: Make
    model: str | None
    endpoint: DeviceEndpoint
    site: str
    rack: str | None = None
    position: str | None = None

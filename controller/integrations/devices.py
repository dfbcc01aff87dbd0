"""Devices as the API shows them: identity, health, latest reading, control status."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from controller.state.fleet import DeviceRecord

if TYPE_CHECKING:
    from controller.app import Controller

__all__ = ["device_json", "devices_page"]


def device_json(controller: Controller, record: DeviceRecord, now: float) -> dict[str, Any]:
    telemetry = record.telemetry
    override = controller.state.live_overrides(now).get(record.identity.device_id)
    queued = controller.loop.dispatcher.queued(record.identity.device_id)
    return {
        "device": record.identity.device_id,
        "make": record.identity.make.value,
        "model": record.model,
        "host": record.identity.endpoint.host,
        "rack": record.identity.rack,
        "health": record.health.value,
        "last_error": record.last_error,
        "state": telemetry.mining_state.value if telemetry else "unknown",
        "hashrate_hs": telemetry.hashrate_hs if telemetry else None,
        "power_w": telemetry.power_w if telemetry else None,
        "power_estimated": telemetry.power_estimated if telemetry else None,
        "taken_at": telemetry.taken_at if telemetry else None,
        "commanded": record.commanded,
        "commanded_at": record.commanded_at or None,
        "stuck": record.stuck_until > now,
        "stuck_reason": record.stuck_reason if record.stuck_until > now else None,
        "override": override.as_json() if override else None,
        "queued": [job.name for job in queued],
    }


def devices_page(
    controller: Controller,
    make: str | None,
    state: str | None,
    health: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    now = time.time()
    matched = []
    for record in controller.fleet:
        telemetry = record.telemetry
        if make is not None and record.identity.make.value != make:
            continue
        if health is not None and record.health.value != health:
            continue
        current = telemetry.mining_state.value if telemetry else "unknown"
        if state is not None and current != state:
            continue
        matched.append(record)
    page = matched[offset : offset + limit]
    return {
        "total": len(matched),
        "offset": offset,
        "devices": [device_json(controller, record, now) for record in page],
    }

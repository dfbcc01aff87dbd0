"""Rows the journal tests write by hand, as the service writes them."""

from __future__ import annotations

from typing import Any

# An ERS-style instruction from t=10 s to far away: "event.created"'s ``event``.
EVENT_E1: dict[str, Any] = {
    "event_id": "e1",
    "kind": "instructed",
    "start": 10.0,
    "end": 1e10,
    "level_mw": 0.5,
    "deadline": 600.0,
    "source": "test",
    "created_at": 10.0,
    "updated_at": 10.0,
    "cancelled_at": None,
}

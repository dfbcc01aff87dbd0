"""Grid-event metrics: the level a running event allows, and any draw above it past its deadline."""

from __future__ import annotations

from controller.integrations.loop_metrics import event_level_families
from controller.policy import EventKind
from controller.state.control import ControlState, EventRecord

NOW = 1_800_000_000.0


def _event(
    event_id: str, start: float, deadline: float | None, level_mw: float | None
) -> EventRecord:
    return EventRecord(
        event_id=event_id,
        kind=EventKind.INSTRUCTED,
        start=start,
        end=NOW + 3600,
        level_mw=level_mw,
        deadline=deadline,
        source="test",
        created_at=start,
        updated_at=start,
    )


def _samples(state: ControlState, site_w: float) -> dict[tuple[str, str], float]:
    out = {}
    for family in event_level_families("s1", state.active_events(NOW), site_w, NOW):
        for sample in family.samples:
            out[(sample.name, sample.labels["event"])] = sample.value
    return out


def test_excess_shows_only_past_the_deadline_and_never_below_zero() -> None:
    state = ControlState.empty()
    for event in (
        _event("late", NOW - 120, NOW - 60, 0.8),  # past its deadline, site above it
        _event("ramping", NOW - 10, NOW + 50, 0.8),  # still within its deadline
        _event("met", NOW - 600, None, 1.2),  # no deadline: from its start; site below it
        _event("ahead", NOW + 60, NOW + 120, 0.5),  # not started: not shown
        _event("open", NOW - 60, None, None),  # no level (a price spike): not shown
    ):
        state.events[event.event_id] = event
    samples = _samples(state, 900_000.0)
    assert samples == {
        ("hashpivot_event_level_watts", "late"): 800_000.0,
        ("hashpivot_event_level_watts", "ramping"): 800_000.0,
        ("hashpivot_event_level_watts", "met"): 1_200_000.0,
        ("hashpivot_event_excess_watts", "late"): 100_000.0,
        ("hashpivot_event_excess_watts", "met"): 0.0,
    }

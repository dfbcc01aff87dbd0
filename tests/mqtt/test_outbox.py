"""The outbound queue drops the oldest telemetry first and never an event or reply."""

from __future__ import annotations

from dataclasses import replace

from controller.integrations.mqtt.lifecycle import LifecycleWatch
from controller.integrations.mqtt.outbox import Lane, Message, Outbox
from controller.integrations.mqtt.topics import EventPhase
from controller.policy import EventKind
from controller.state.control import EventRecord


def message(topic: str, lane: Lane) -> Message:
    return Message(topic=topic, payload=topic.encode(), qos=1, retain=lane is Lane.STATE, lane=lane)


def test_drops_oldest_telemetry_keeps_events_and_the_newest_state() -> None:
    box = Outbox(telemetry_limit=2)
    for i in range(5):
        box.put(message(f"t{i}", Lane.TELEMETRY))
        box.put(message(f"e{i}", Lane.RELIABLE))
        box.put(message("status", Lane.STATE))
    assert box.dropped_telemetry == 3
    taken = []
    while (m := box.take()) is not None:
        taken.append(m.topic)
    assert taken == ["e0", "e1", "e2", "e3", "e4", "status", "t3", "t4"]


def test_a_failed_send_goes_back_and_state_is_resent_after_a_reconnect() -> None:
    box = Outbox(telemetry_limit=10)
    box.put(message("e", Lane.RELIABLE))
    box.put(message("status", Lane.STATE))
    box.put(message("t", Lane.TELEMETRY))
    first = box.take()
    assert first is not None
    box.put_back(first)
    assert [box.take(), box.take()] == [first, message("status", Lane.STATE)]
    telemetry = box.take()
    assert telemetry is not None
    box.put_back(telemetry)  # telemetry is not retried: counted
    assert box.dropped_telemetry == 1
    assert box.take() is None
    box.resend_state()
    assert box.take() == message("status", Lane.STATE)


def test_lifecycle_announces_each_phase_once_and_one_verdict() -> None:
    confirmed: set[str] = set()
    watch = LifecycleWatch(lambda event_id: event_id in confirmed)
    event = EventRecord(
        event_id="e1",
        kind=EventKind.INSTRUCTED,
        start=100.0,
        end=200.0,
        level_mw=1.0,
        deadline=150.0,
        source="t",
        created_at=100.0,
        updated_at=100.0,
    )
    old = replace(
        event, event_id="e0", start=0.0, end=50.0, deadline=None, created_at=0.0, updated_at=0.0
    )
    watch.seed([old], 60.0)
    phases = [t.phase for t in watch.observe([old, event], 100.0)]
    assert phases == [EventPhase.CREATED]
    assert [t.phase for t in watch.observe([event], 160.0)] == [EventPhase.MISSED]
    confirmed.add("e1")
    assert [t.phase for t in watch.observe([event], 170.0)] == [EventPhase.CONFIRMED]
    assert [t.phase for t in watch.observe([event], 250.0)] == [EventPhase.ENDED]
    assert watch.observe([event], 260.0) == []

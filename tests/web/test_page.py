"""The operator page's data, chart and history, against a fake read model."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from controller import policy
from controller.integrations.web_chart import power_chart
from controller.integrations.web_page import ReportCache, page_data
from controller.service.read_model import ControlRow, DeviceRow, PlanGroup, PlanRow, SignalRow
from controller.state.control import EventRecord
from controller.state.power_history import PowerHistory, PowerPoint

NOW = 1_800_000_000.0


def device(name: str, **kw: Any) -> DeviceRow:
    values: dict[str, Any] = {
        "device": name,
        "make": "antminer",
        "model": "S21",
        "rack": "A",
        "state": "mining",
        "health": "healthy",
        "power_w": 3500.0,
        "stuck": None,
        "refusing": None,
        "last_error": None,
        "override": None,
    }
    values.update(kw)
    return DeviceRow(**values)


def event(event_id: str = "ev-1", **kw: Any) -> EventRecord:
    values: dict[str, Any] = {
        "event_id": event_id,
        "kind": policy.EventKind.INSTRUCTED,
        "start": NOW - 600,
        "end": NOW + 3000,
        "level_mw": 0.2,
        "deadline": NOW - 300,
        "source": "web",
        "created_at": NOW - 600,
        "updated_at": NOW - 600,
    }
    values.update(kw)
    return EventRecord(**values)


class FakeModel:
    def __init__(self) -> None:
        self.rows = [
            device("a1"),
            device("a2", state="sleeping", power_w=50.0),
            device("b1", rack="B", make="whatsminer", model="M60S", refusing="sleep"),
            device("b2", rack="B", health="unreachable", last_error="timeout", power_w=None),
            device("c1", rack=None, stuck="sleep failed: timeout", override="exclude"),
        ]
        self.event_list = [event("ev-old", end=NOW - 100), event("ev-1")]
        self.reports = 0

    def now(self) -> float:
        return NOW

    @property
    def site(self) -> str:
        return "test"

    def control(self) -> ControlRow:
        return ControlRow(
            paused=False, paused_reason=None, dry_run=False, enabled=True, writes_enabled=True
        )

    def devices(self, now: float) -> Sequence[DeviceRow]:
        return self.rows

    def plan(self) -> PlanRow | None:
        groups = (
            PlanGroup(action="sleep", reason="grid level", devices=("a2",), power_w=50.0),
            PlanGroup(action="run", reason="profitable", devices=("a1", "b1"), power_w=7000.0),
        )
        return PlanRow(
            seq=3,
            at=NOW - 1,
            trigger="event",
            limit_w=200e3,
            expected_w=190e3,
            other_load_w=500.0,
            grid_binding=True,
            infeasible=False,
            notes=("a note",),
            groups=groups,
            commands={"sleep": 1},
        )

    def signals(self, now: float) -> Sequence[SignalRow]:
        return (
            SignalRow(
                name="power price",
                value=30.0,
                unit="USD/MWh",
                as_of=now - 1000,
                source="api",
                max_age_s=900,
            ),
            SignalRow(
                name="hashprice",
                value=45.0,
                unit="USD/PH/day",
                as_of=now - 10,
                source="config",
                max_age_s=21600,
            ),
        )

    def events(self) -> Sequence[EventRecord]:
        return self.event_list

    def event_confirmed(self, event_id: str) -> bool:
        return event_id == "ev-1"

    async def report(self, event: EventRecord) -> Mapping[str, Any]:
        self.reports += 1
        return {
            "requested": {"baseline_w": 400e3, "level_w": 200e3},
            "time_to_50_s": 4.0,
            "time_to_90_s": 9.0,
            "time_to_100_s": 12.5,
            "met_by_deadline": True,
            "compliance": "met",
            "confirmed_by": "meter",
            "failed_devices": [{"device": "c1"}],
            "compensation": {"for": ["c1"], "shed_in_their_place": ["a2"]},
            "commands": {"applied": 3},
        }

    def power(self, since: float) -> Sequence[PowerPoint]:
        return []

    def commands(self) -> Mapping[str, int]:
        return {"applied": 3, "failed": 1}


async def test_page_data_groups_devices_and_flags_units_that_need_attention() -> None:
    data = await page_data(FakeModel(), ReportCache(), NOW)
    devices = data["devices"]
    assert devices["total"] == 5
    assert {r["state"]: r["count"] for r in devices["by_state"]} == {"mining": 4, "sleeping": 1}
    assert {(r["make"], r["model"]): r["count"] for r in devices["by_model"]} == {
        ("antminer", "S21"): 4,
        ("whatsminer", "M60S"): 1,
    }
    assert [(r["rack"], r["devices"], r["attention"]) for r in devices["by_rack"]] == [
        ("A", 2, 0),
        ("B", 2, 2),
    ]
    why = {r["device"]: r["why"] for r in devices["attention"]}
    assert why == {
        "b1": "refuses sleep",
        "b2": "unreachable: timeout",
        "c1": "stuck: sleep failed: timeout",
    }
    assert devices["overrides"] == [{"device": "c1", "action": "exclude"}]


async def test_page_data_plan_signals_events_and_commands() -> None:
    data = await page_data(FakeModel(), ReportCache(), NOW)
    assert [(g["action"], g["count"]) for g in data["plan"]["groups"]] == [("sleep", 1), ("run", 2)]
    price, hashprice = data["signals"]
    assert (price["age_s"], price["stale"]) == (1000.0, True)
    assert (hashprice["age_s"], hashprice["stale"]) == (10.0, False)
    newest, older = data["events"]
    assert (newest["event_id"], newest["active"], newest["confirmed"]) == ("ev-1", True, True)
    assert older["active"] is False
    assert newest["report"]["time_to_100_s"] == 12.5
    assert newest["report"]["compensation"]["shed_in_their_place"] == ["a2"]
    assert data["commands"] == {"applied": 3, "failed": 1}


async def test_reports_of_finished_events_are_built_once() -> None:
    model, cache = FakeModel(), ReportCache(ttl_s=5.0)
    await page_data(model, cache, NOW)
    assert model.reports == 2
    await page_data(model, cache, NOW + 1)
    assert model.reports == 2  # both cached: one over, one fresh enough
    await page_data(model, cache, NOW + 6)
    assert model.reports == 3  # only the running event's report is rebuilt


def test_history_keeps_one_point_per_step_and_a_bounded_span() -> None:
    history = PowerHistory(span_s=100.0, step_s=10.0)
    kept = [
        history.add(
            PowerPoint(at=NOW + t, metered_w=1.0, source="meter", commanded_w=None, limit_w=None)
        )
        for t in range(0, 400, 2)
    ]
    assert sum(kept) == 40
    assert len(history) == 11  # span / step + 1, the oldest dropped
    assert history.since(NOW + 390)[0].at == NOW + 390


def test_chart_draws_lines_event_level_and_deadline() -> None:
    points = [
        PowerPoint(
            at=NOW - 600 + 10 * i,
            metered_w=400e3 - 1e3 * i,
            source="meter",
            commanded_w=380e3,
            limit_w=200e3 if i > 30 else 1e6,
        )
        for i in range(60)
    ]
    svg = power_chart(points, [event()], NOW, 3600.0)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    lines = root.findall(f"{ns}polyline")
    assert [line.get("stroke") for line in lines] == ["#d62728", "#ff7f0e", "#1f77b4"]
    assert all(len(line.get("points", "").split()) == 60 for line in lines)
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "ev-1 level" in texts
    assert "deadline" in texts
    assert "kW" in " ".join(t or "" for t in texts)


@given(st.text(max_size=40), st.lists(st.floats(0, 1e9), max_size=20))
def test_chart_is_valid_svg_for_any_event_id_and_values(event_id: str, watts: list[float]) -> None:
    points = [
        PowerPoint(at=NOW - 100 + i, metered_w=w, source="meter", commanded_w=w / 2, limit_w=None)
        for i, w in enumerate(watts)
    ]
    svg = power_chart(points, [event(event_id.replace("\x00", ""))], NOW, 3600.0)
    ET.fromstring(svg)  # well formed: the id is escaped

"""The bounded journal: compaction by age keeps every event's evidence for the grid
program's retention, expires prices, memory snapshots and fine meter samples sooner,
never what a restart needs; and a restart reads only those rows, arriving at the state
a full replay would."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller import policy
from controller.app import Controller
from controller.config.settings import parse_config
from controller.journal.retention import Retention
from controller.journal.store import Journal
from controller.state.control import ControlState
from tests.conftest import free_port
from tests.e2e.helpers import controller_config

DAY = 86_400.0
NOW = 1_800_000_000.0


def event_row(event_id: str, start: float, end: float) -> dict[str, Any]:
    return {
        "event": {
            "event_id": event_id,
            "kind": "instructed",
            "start": start,
            "end": end,
            "level_mw": 0.5,
            "deadline": None,
            "source": "test",
            "created_at": start,
            "updated_at": start,
            "cancelled_at": None,
        }
    }


def memory_row(at: float) -> dict[str, Any]:
    return {"json": policy.PolicyMemory(last_price_at=at).to_json()}


def state_of(entries: Any) -> dict[str, Any]:
    state = ControlState.empty()
    state.replay(entries)
    return {
        "events": state.events,
        "overrides": state.overrides,
        "paused": state.paused,
        "reason": state.paused_reason,
        "relay": state.relay_cleared_at,
        "price": state.price,
        "hashprice": state.hashprice,
        "memory": None if state.memory is None else state.memory.to_json(),
    }


async def full_and_restart_state(journal: Journal) -> tuple[dict[str, Any], dict[str, Any]]:
    everything = await journal.entries()
    return state_of(everything), state_of(await journal.state_entries())


# One step of operator and feed activity: (kind, subject, data).
_devices = st.sampled_from(["d1", "d2", "d3"])
_price = st.one_of(st.none(), st.floats(-100, 5000, allow_nan=False))
_steps = st.one_of(
    st.tuples(
        st.just("override.set"),
        _devices,
        st.fixed_dictionaries(
            {
                "action": st.sampled_from(["force_sleep", "exclude"]),
                "expires_at": st.none(),
                "reason": st.text(max_size=5),
            }
        ),
    ),
    st.tuples(st.just("override.cleared"), _devices, st.just({})),
    st.tuples(
        st.just("control.paused"),
        st.just(""),
        st.fixed_dictionaries({"reason": st.text(max_size=5)}),
    ),
    st.tuples(st.just("control.resumed"), st.just(""), st.just({})),
    st.tuples(
        st.just("economics.updated"),
        st.just(""),
        st.fixed_dictionaries(
            {
                "power_price_usd_per_mwh": _price,
                "hashprice_usd_per_ph_day": _price,
                "as_of": st.just(NOW),
                "source": st.just("t"),
            }
        ),
    ),
    st.tuples(st.just("memory"), st.just(""), st.builds(memory_row, st.floats(0, NOW))),
    st.tuples(
        st.just("event.created"),
        st.sampled_from(["e1", "e2"]),
        st.builds(
            event_row,
            st.sampled_from(["e1", "e2"]),
            st.just(NOW),
            st.sampled_from([NOW + 60, NOW + 3600]),
        ),
    ),
    st.tuples(st.just("event.cancelled"), st.sampled_from(["e1", "e2"]), st.just({})),
    st.tuples(st.just("relay.cleared"), st.just(""), st.just({})),
    st.tuples(st.just("plan"), st.just("1"), st.just({"reason": "interval"})),
    st.tuples(st.just("command.sent"), _devices, st.just({"command": "sleep"})),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_steps, max_size=40))
def test_a_restart_reads_only_what_it_needs_and_gets_the_same_state(
    steps: list[tuple[str, str, dict[str, Any]]],
) -> None:
    async def check() -> None:
        journal = Journal(None)
        await journal.open()
        for i, (kind, subject, data) in enumerate(steps):
            row = event_row(subject, NOW, data["event"]["end"]) if kind == "event.created" else data
            journal.append(kind, subject, row, at=NOW + i)
        await journal.commit()
        full, restart = await full_and_restart_state(journal)
        assert restart == full
        await journal.close()

    asyncio.run(check())


async def old_journal(path: Path) -> Journal:
    """Fifteen months of a site's rows, on the days before NOW."""
    journal = Journal(path)
    await journal.open()
    for day in range(450, 0, -1):
        at = NOW - day * DAY
        journal.append(
            "economics.updated",
            "",
            {
                "power_price_usd_per_mwh": 30.0 + day % 7,
                "hashprice_usd_per_ph_day": None,
                "as_of": at,
                "source": "t",
            },
            at=at,
        )
        journal.append("memory", "", memory_row(at), at=at)
        journal.append("plan", str(day), {"reason": "interval"}, at=at)
        journal.append("command.sent", "d1", {"command": "sleep"}, at=at)
        for second in range(0, 120, 2):  # a two-minute event's meter samples
            journal.append(
                "meter.sample",
                "",
                {"watts": 1e5, "source": "meter", "events": [f"e{day}"]},
                at=at + second,
            )
        journal.append("event.created", f"e{day}", event_row(f"e{day}", at, at + 120), at=at)
    # Said long ago and still true: an hashprice, an override, a pause, a latched trip.
    journal.append(
        "economics.updated",
        "",
        {
            "power_price_usd_per_mwh": None,
            "hashprice_usd_per_ph_day": 44.0,
            "as_of": NOW - 420 * DAY,
            "source": "t",
        },
        at=NOW - 420 * DAY,
    )
    journal.append(
        "override.set",
        "d2",
        {"action": "exclude", "expires_at": None, "reason": "broken"},
        at=NOW - 430 * DAY,
    )
    journal.append("control.paused", "", {"reason": "winter"}, at=NOW - 440 * DAY)
    trip = event_row("trip", NOW - 410 * DAY, NOW + 3000 * DAY)
    trip["event"]["kind"] = "relay_trip"
    journal.append("event.created", "trip", trip, at=NOW - 410 * DAY)
    await journal.commit()
    return journal


def kinds_by_age(path: Path) -> dict[str, tuple[int, float]]:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT kind, COUNT(*), MIN(at) FROM journal GROUP BY kind").fetchall()
    conn.close()
    return {kind: (count, (NOW - oldest) / DAY) for kind, count, oldest in rows}


async def test_compaction_keeps_evidence_for_the_retention_and_what_a_restart_needs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite"
    journal = await old_journal(path)
    before = await full_and_restart_state(journal)
    result = await journal.compact(Retention(), now=NOW)
    assert result is not None
    await journal.commit()
    after = kinds_by_age(path)
    # Evidence: 400 days of events and their commands and plans.
    assert after["event.created"][0] == 400 + 1  # and the trip, still latched
    assert after["command.sent"] == (400, 400.0)
    assert after["plan"][0] == 400
    # Meter samples: every 2 s for 30 days, then one a minute (two per event) to 400 days.
    assert after["meter.sample"][0] == 30 * 60 + 370 * 2
    # Prices a week; the newest hashprice (420 days old) stays. Memory a week and the newest.
    assert after["economics.updated"][0] == 7 + 1
    assert after["memory"][0] == 7
    # Operator state is never aged out.
    assert after["override.set"][0] == after["control.paused"][0] == 1
    assert result.removed["meter.sample"] == 450 * 60 - after["meter.sample"][0]
    assert result.removed["event.created"] == 50
    # The restart sees what a full replay sees, and what it saw before, less the events
    # that ended more than 400 days ago.
    full, restart = await full_and_restart_state(journal)
    assert restart == full
    expired = {f"e{day}" for day in range(401, 451)}
    assert set(restart["events"]) == set(before[0]["events"]) - expired
    assert {**restart, "events": None} == {**before[0], "events": None}
    assert restart["hashprice"].hashprice_usd_per_ph_day == 44.0
    assert restart["paused"]
    assert "d2" in restart["overrides"]
    # What was removed is itself journaled.
    (record,) = await journal.entries(["journal.compacted"])
    assert record.data["rows_removed"] == result.rows_removed
    # A second pass finds nothing more.
    again = await journal.compact(Retention(), now=NOW)
    assert again is not None
    assert again.rows_removed == 0
    await journal.close()
    assert path.stat().st_size < 2_000_000  # the freed pages went back to the file system


async def test_nothing_newer_than_the_horizon_can_be_deleted(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = await old_journal(path)
    await journal.compact(Retention(), now=NOW)
    await journal.close()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM journal WHERE at > ?", (NOW - 2 * DAY,))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE journal SET kind = 'x'")
    conn.close()


async def test_a_journal_made_before_compaction_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL,
            actor TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL DEFAULT '{}', run INTEGER NOT NULL DEFAULT 0);
        CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
            BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
    """)
    old = NOW - 30 * DAY
    row = json.dumps(memory_row(old))
    conn.execute(
        "INSERT INTO journal (at, actor, kind, subject, data, run) VALUES "
        "(?, 'c', 'memory', '', ?, 3), (?, 'c', 'memory', '', ?, 3)",
        (old, row, old + 1, row),
    )
    conn.commit()
    conn.close()
    journal = Journal(path)
    await journal.open()
    assert journal.run == 4
    result = await journal.compact(Retention(), now=NOW)
    assert result is not None
    assert result.removed == {"memory": 1}
    await journal.close()


async def test_the_daemon_compacts_soon_after_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import controller.app  # noqa: PLC0415

    monkeypatch.setattr(controller.app, "_FIRST_COMPACTION_S", 0.1)
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    await journal.open()
    now = time.time()
    for i in range(100):
        journal.append("memory", "", memory_row(now), at=now - 10 * DAY + i)
    await journal.close()
    groups = [{"make": "antminer", "start": "127.0.150.1", "count": 1}]
    config = parse_config(controller_config(free_port(), groups, str(path)))
    async with Controller(config) as daemon:
        async with asyncio.timeout(10):
            while daemon.status()["journal"]["compaction"] is None:
                await asyncio.sleep(0.05)
        # All but the newest; all, if the first plan has written a newer one already.
        assert daemon.status()["journal"]["compaction"]["rows_removed"] >= 99
        assert daemon.state.memory is not None

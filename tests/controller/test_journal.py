"""The journal: ordered, durable on commit, append-only, replayable, survives kill -9."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from controller.journal.store import Journal
from controller.state.control import ControlState
from tests.controller.journal_rows import EVENT_E1


async def test_rows_come_back_in_order_with_their_run(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    await journal.open()
    for i in range(100):
        journal.append("command.sent", f"dev{i}", {"i": i}, actor="test")
    await journal.commit()
    rows = await journal.entries(["command."])
    assert [r.data["i"] for r in rows] == list(range(100))
    assert {r.run for r in rows} == {1}
    assert rows[0].actor == "test"
    await journal.close()
    again = Journal(tmp_path / "j.sqlite")
    await again.open()
    assert again.run == 2
    assert len(await again.entries(subject="dev7")) == 1
    await again.close()


async def test_the_table_refuses_updates_and_deletes(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    await journal.open()
    journal.append("plan", "1", {})
    await journal.commit()
    await journal.close()
    conn = sqlite3.connect(tmp_path / "j.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM journal")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE journal SET kind = 'x'")
    conn.close()


async def test_state_replays_events_overrides_and_pause(tmp_path: Path) -> None:
    journal = Journal(None)
    await journal.open()
    event = dict(EVENT_E1)
    journal.append("event.created", "e1", {"event": event}, at=10.0)
    journal.append("override.set", "d1", {"action": "exclude", "expires_at": None}, at=11.0)
    journal.append("control.paused", "", {"reason": "maintenance"}, at=12.0)
    journal.append("control.resumed", "", {}, at=13.0)
    journal.append("override.set", "d2", {"action": "force_sleep", "expires_at": 20.0}, at=14.0)
    await journal.commit()
    state = ControlState.empty()
    state.replay(await journal.entries())
    assert [e.event_id for e in state.active_events(100.0)] == ["e1"]
    assert not state.paused
    assert set(state.live_overrides(15.0)) == {"d1", "d2"}
    assert set(state.live_overrides(25.0)) == {"d1"}
    await journal.close()


def test_committed_rows_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    script = textwrap.dedent(f"""
        import asyncio, os, signal
        from controller.journal.store import Journal
        async def main():
            journal = Journal({str(path)!r})
            await journal.open()
            for i in range(500):
                journal.append("command.sent", str(i), {{"i": i}})
            await journal.commit()
            print("committed", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        asyncio.run(main())
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == -9
    assert "committed" in done.stdout

    async def count() -> int:
        journal = Journal(path)
        await journal.open()
        rows = await journal.entries(["command.sent"])
        await journal.close()
        return len(rows)

    assert asyncio.run(count()) == 500


async def test_failed_writes_are_counted_and_reported_until_writes_work_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    await journal.open()
    saboteur = sqlite3.connect(path)
    saboteur.execute(
        "CREATE TRIGGER full BEFORE INSERT ON journal BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    saboteur.commit()
    for i in range(3):
        journal.append("plan", str(i), {})
        await journal.commit()
    assert journal.failed is not None
    assert "disk full" in journal.failed
    assert journal.rows_failed == 3
    assert sum("journal write failed" in r.getMessage() for r in caplog.records) == 1
    saboteur.execute("DROP TRIGGER full")
    saboteur.commit()
    saboteur.close()
    journal.append("plan", "3", {})
    await journal.commit()
    assert journal.failed is None
    assert any("journal writing again" in r.getMessage() for r in caplog.records)
    assert [e.subject for e in await journal.entries(["plan"])] == ["3"]
    await journal.close()


async def test_a_memory_journal_reads_while_it_writes() -> None:
    """A shared-cache memory database refuses a reader while the writer holds the table
    ("database table is locked"); that once stopped the daemon's MQTT bridge."""
    journal = Journal(None)
    await journal.open()

    async def write() -> None:
        for i in range(400):
            journal.append("command.sent", f"dev{i}", {"i": i}, actor="test")
            if i % 20 == 0:
                await journal.commit()

    async def read() -> None:
        for _ in range(200):
            await journal.entries(["command."])

    await asyncio.gather(write(), read(), read(), read())
    await journal.commit()
    assert len(await journal.entries(["command."])) == 400
    await journal.close()

"""Typed contracts between parts (issue 11, point 3): the enums keep the old strings.

Journal kinds, command results, job origins, power sources and override actions were
plain strings; they are StrEnums now, so a journal written before the change loads
and replays the same, and every payload carries the same text.
"""

from __future__ import annotations

import json
import sqlite3
import typing
from pathlib import Path

import pytest

from controller import policy
from controller.journal.kinds import JournalKind
from controller.journal.store import Journal
from controller.reconcile.commands import command_name
from controller.reconcile.dispatch import JobOrigin, SendResult
from controller.reconcile.meter import PowerSource
from controller.state.control import ControlState, OverrideAction
from drivers import SetPowerTarget, Sleep, Wake
from tests.controller.journal_rows import EVENT_E1

# Every kind any release wrote, as stored: changing one breaks old journals.
OLD_KINDS = {
    "event.created",
    "event.updated",
    "event.cancelled",
    "event.baseline",
    "event.milestone",
    "event.failed_at_start",
    "relay.cleared",
    "override.set",
    "override.cleared",
    "control.paused",
    "control.resumed",
    "economics.updated",
    "economics.forecast",
    "memory",
    "plan",
    "command.sent",
    "command.result",
    "command.confirmed",
    "device.stuck",
    "device.health",
    "device.unsupported",
    "device.state",
    "meter.sample",
    "site.other_load",
    "daemon.started",
    "journal.compacted",
    "signal.relay_reset",
    "signal.openadr_opt",
}  # fmt: skip  (a table of data)


def test_the_kinds_are_the_strings_old_journals_hold() -> None:
    assert {kind.value for kind in JournalKind} == OLD_KINDS
    assert JournalKind.PLAN == "plan"
    assert json.dumps({"k": JournalKind.OVERRIDE_SET}) == '{"k": "override.set"}'


def test_other_enums_keep_their_payload_strings() -> None:
    assert {r.value for r in SendResult} == {
        "applied",
        "acknowledged",
        "not_applied",
        "failed",
        "unsupported",
    }
    assert {o.value for o in JobOrigin} == {"plan", "override", "reconfirm", "restart"}
    assert {s.value for s in PowerSource} == {"meter", "estimated"}
    assert {a.value for a in OverrideAction} == {"force_sleep", "exclude"}


async def test_a_journal_written_with_the_old_strings_replays(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    journal = Journal(path)
    await journal.open()  # the schema
    await journal.close()
    event = dict(EVENT_E1)
    rows = [
        (10.0, "api", "event.created", "e1", json.dumps({"event": event})),
        (11.0, "api", "override.set", "d1", json.dumps({"action": "exclude", "expires_at": None})),
        (12.0, "api", "control.paused", "", json.dumps({"reason": "winter"})),
        (13.0, "api", "override.set", "d2", json.dumps({"action": "bogus", "expires_at": None})),
    ]
    conn = sqlite3.connect(path)
    with conn:  # raw SQL: exactly what an older release left on disk
        conn.executemany(
            "INSERT INTO journal (at, actor, kind, subject, data, run) VALUES (?, ?, ?, ?, ?, 1)",
            rows,
        )
    conn.close()
    journal = Journal(path)
    await journal.open()
    entries = await journal.state_entries()
    await journal.close()
    assert [e.kind for e in entries] == [
        JournalKind.EVENT_CREATED,
        JournalKind.OVERRIDE_SET,
        JournalKind.CONTROL_PAUSED,
        JournalKind.OVERRIDE_SET,
    ]
    state = ControlState.empty()
    state.replay(entries)
    assert [e.event_id for e in state.active_events(100.0)] == ["e1"]
    assert state.paused
    assert state.paused_reason == "winter"
    # A known action comes back typed; an unknown one is skipped, not a crash on start.
    assert state.overrides["d1"].action is OverrideAction.EXCLUDE
    assert "d2" not in state.overrides


_GPU_COMMANDS = {
    policy.SetGpuPowerLimit: "set_gpu_power_limit:300",
    policy.Drain: "drain",
    policy.Resume: "resume",
    policy.CheckpointJobs: "checkpoint_jobs",
    policy.RequeueJobs: "requeue_jobs",
    policy.SuspendJobs: "suspend_jobs",
}


def _instance(cls: type[object]) -> policy.PlanCommand:
    if cls is SetPowerTarget:
        return SetPowerTarget(watts=3000.0)
    if cls is policy.SetGpuPowerLimit:
        return policy.SetGpuPowerLimit(watts_per_gpu=300.0)
    if cls is policy.Drain:
        return policy.Drain(reason="event")
    return typing.cast("policy.PlanCommand", cls())


def test_command_name_names_every_plan_command_and_nothing_else() -> None:
    names = {Sleep: "sleep", Wake: "wake", SetPowerTarget: "set_power_target:3000"}
    names.update(_GPU_COMMANDS)  # type: ignore[arg-type]
    members = set(typing.get_args(policy.PlanCommand))
    assert members == set(names)  # a new command type must be named here too
    for cls, expected in names.items():
        assert command_name(_instance(cls)) == expected
    with pytest.raises(AssertionError):
        command_name(object())  # type: ignore[arg-type]

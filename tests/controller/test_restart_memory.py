"""What a restart rebuilds from the journal's commands: commanded state, dwell, cycles,
stuck marks, and the units a running event had shed (never woken while it runs)."""

from __future__ import annotations

import time

from controller import policy
from controller.clock import SystemClock
from controller.config.sections import (
    ControlSettings,
    EconomicsConfig,
    GridConfig,
    LoopSettings,
)
from controller.journal.store import Entry, Journal
from controller.reconcile.loop import Reconciler
from controller.state.control import ControlState, EventRecord
from controller.state.domain import DeviceIdentity
from controller.state.fleet import DeviceRecord, Fleet
from drivers import DeviceEndpoint, Make, Sleep, Wake


class _Driver:
    spec = None
    controls = frozenset()


def _reconciler(now: float, *ids: str) -> Reconciler:
    fleet = Fleet("t")
    for n, device_id in enumerate(ids):
        endpoint = DeviceEndpoint(f"127.0.130.{n + 1}")
        fleet.add(
            DeviceRecord(
                identity=DeviceIdentity(
                    device_id=device_id, make=Make.ANTMINER, model=None, endpoint=endpoint, site="t"
                ),
                driver=_Driver(),
            )
        )  # type: ignore[arg-type]
    state = ControlState.empty()
    state.events["ERS-1"] = EventRecord(
        event_id="ERS-1",
        kind=policy.EventKind.INSTRUCTED,
        start=now - 10,
        end=now + 3600,
        level_mw=0.085,
        deadline=now + 50,
        source="t",
        created_at=now - 10,
        updated_at=now - 10,
    )
    return Reconciler(
        fleet,
        state,
        Journal(None),
        settings=LoopSettings(
            control=ControlSettings(),
            policy=policy.PolicySettings(),
            grid=GridConfig(),
            economics=EconomicsConfig(),
        ),
        clock=SystemClock(),
    )


def _row(seq: int, at: float, kind: str, subject: str, **data: object) -> Entry:
    return Entry(seq=seq, at=at, actor="controller", kind=kind, subject=subject, data=data, run=1)


def test_applied_and_sent_commands_rebuild_what_the_policy_remembers() -> None:
    now = time.time()
    loop = _reconciler(now, "a", "b", "c", "d")
    loop.restore(
        [
            _row(1, now - 3600, "command.result", "d", command="wake", result="applied"),
            _row(2, now - 5, "command.sent", "a", command="sleep", origin="plan"),
            _row(3, now - 4, "command.result", "a", command="sleep", result="applied"),
            # Sent just before the kill, never answered: may have slept, so held too.
            _row(4, now - 3, "command.sent", "b", command="sleep", origin="plan"),
            _row(5, now - 2, "device.stuck", "c", reason="sleep not in effect", until=now + 600),
        ],
        now,
    )
    records = loop.fleet.records
    assert (records["a"].commanded, records["a"].commanded_at) == ("sleep", now - 4)
    assert records["a"].state_changed_at == now - 4  # dwell counts from the applied sleep
    assert records["b"].commanded is None
    assert records["c"].stuck_until == now + 600
    assert list(records["d"].wakes) == [now - 3600]  # a cycle, though its reading was lost
    assert set(loop.event_sheds) == {"a", "b"}
    # The plan would wake them: not while the event that shed them runs.
    commands = (
        policy.DeviceCommand("a", Wake()),
        policy.DeviceCommand("b", Wake()),
        policy.DeviceCommand("d", Sleep()),
    )
    assert loop._withhold_wakes(commands, now) == (commands[2],)
    # Once it is over, they may be woken.
    assert loop._withhold_wakes(commands, now + 4000) == commands
    assert not loop.event_sheds

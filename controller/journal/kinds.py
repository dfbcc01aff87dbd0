"""What a journal row records: one name per kind, shared by every writer and reader.

A :class:`~enum.StrEnum`, so a member *is* its string: rows written before this enum
existed (and rows it writes now) hold the same text, old journals load unchanged, and
``entry.kind == JournalKind.PLAN`` holds for a row read back as plain text. Writers
must name a member (:meth:`controller.journal.store.Journal.append` takes only these);
readers compare against members or ask for a prefix such as ``"event."``.
"""

from __future__ import annotations

import enum

__all__ = ["JournalKind"]


class JournalKind(enum.StrEnum):
    # Grid events and the relay latch (operator, API, signals).
    EVENT_CREATED = "event.created"
    EVENT_UPDATED = "event.updated"
    EVENT_CANCELLED = "event.cancelled"
    EVENT_BASELINE = "event.baseline"  # the site's draw when an event was accepted
    EVENT_MILESTONE = "event.milestone"  # start, deadline, end as the meter saw them
    EVENT_FAILED_AT_START = "event.failed_at_start"
    RELAY_CLEARED = "relay.cleared"
    # Operator state.
    OVERRIDE_SET = "override.set"
    OVERRIDE_CLEARED = "override.cleared"
    CONTROL_PAUSED = "control.paused"
    CONTROL_RESUMED = "control.resumed"
    ECONOMICS_UPDATED = "economics.updated"
    ECONOMICS_FORECAST = "economics.forecast"
    # The loop.
    MEMORY = "memory"  # the policy's memory between plans
    PLAN = "plan"
    COMMAND_SENT = "command.sent"
    COMMAND_RESULT = "command.result"
    COMMAND_CONFIRMED = "command.confirmed"
    # Devices and the site.
    DEVICE_STUCK = "device.stuck"
    DEVICE_HEALTH = "device.health"
    DEVICE_UNSUPPORTED = "device.unsupported"
    DEVICE_STATE = "device.state"  # asleep or awake, for the power-cycle budget
    METER_SAMPLE = "meter.sample"
    SITE_OTHER_LOAD = "site.other_load"
    # The daemon and its inputs.
    DAEMON_STARTED = "daemon.started"
    JOURNAL_COMPACTED = "journal.compacted"
    SIGNAL_RELAY_RESET = "signal.relay_reset"
    SIGNAL_OPENADR_OPT = "signal.openadr_opt"

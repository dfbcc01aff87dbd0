"""Following each grid event's drop on the site power, as it happens.

At an event's arrival the last meter sample is its baseline (or, without a recent
one, the estimate, marked so); the requested drop is the baseline less the event's
level. Each sample then moves the event towards 50, 90 and 100% of that drop; the
first time each is reached goes to the journal with the source (meter or estimated).
100% reached on an estimate is not a confirmation: the first meter sample at the
level afterwards is journaled again as the one that confirms it. Samples taken while
events run go to the journal too, and so do the devices that had already failed
when the event arrived: the compliance report is built from them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from controller.journal.kinds import JournalKind
from controller.journal.store import Entry, Journal
from controller.reconcile.meter import PowerSource, SitePower
from controller.state.control import EventRecord

__all__ = ["MILESTONES", "EventTracker"]

log = logging.getLogger(__name__)

MILESTONES = (50, 90, 100)


@dataclass(slots=True)
class _Progress:
    baseline_w: float
    baseline_source: str
    reached: dict[int, float] = field(default_factory=dict)
    on_meter: float | None = None  # when a meter sample first showed the level met


class EventTracker:
    def __init__(
        self,
        journal: Journal,
        *,
        tolerance_w: float,
        on_confirmed: Callable[[EventRecord, float], None] | None = None,
    ) -> None:
        self._journal = journal
        self._tolerance_w = tolerance_w
        self._on_confirmed = on_confirmed
        self._progress: dict[str, _Progress] = {}

    def restore(self, entries: Iterable[Entry]) -> None:
        """Baselines and milestones already journaled (a restart keeps measuring, not anew)."""
        for entry in entries:
            if entry.kind == JournalKind.EVENT_BASELINE:
                self._progress[entry.subject] = _Progress(
                    float(entry.data["watts"]), str(entry.data["source"])
                )
            elif entry.kind == JournalKind.EVENT_MILESTONE and entry.subject in self._progress:
                progress = self._progress[entry.subject]
                progress.reached.setdefault(int(entry.data["pct"]), entry.at)
                if int(entry.data["pct"]) == 100 and entry.data.get("source") == "meter":
                    progress.on_meter = entry.at

    def confirmed(self, event_id: str) -> bool:
        """The level reached, by the meter or (without one) by the estimate."""
        progress = self._progress.get(event_id)
        return progress is not None and 100 in progress.reached

    def confirmed_on_meter(self, event_id: str) -> bool:
        progress = self._progress.get(event_id)
        return progress is not None and progress.on_meter is not None

    def begin(
        self, event: EventRecord, power: SitePower, failed: list[dict[str, str]] | None = None
    ) -> None:
        """Take the baseline from the draw before any command for the event, and list the
        devices that had already failed by then."""
        if event.level_mw is None or event.event_id in self._progress:
            return
        if failed:
            self._journal.append(
                JournalKind.EVENT_FAILED_AT_START,
                event.event_id,
                {"devices": failed},
                at=event.created_at,
            )
        self._advance(event, power)

    def sample(self, power: SitePower, events: list[EventRecord]) -> None:
        measured = [e for e in events if e.level_mw is not None and power.at >= e.created_at]
        if not measured:
            return
        ids = [e.event_id for e in measured]
        self._journal.append(
            JournalKind.METER_SAMPLE,
            "",
            {
                "watts": round(power.watts, 1),
                "source": power.source,
                "events": ids,
                "detail": power.detail,
            },
            at=power.at,
        )
        for event in measured:
            self._advance(event, power)

    def _advance(self, event: EventRecord, power: SitePower) -> None:
        assert event.level_mw is not None
        level_w = event.level_mw * 1e6
        progress = self._progress.get(event.event_id)
        if progress is None:
            progress = self._progress[event.event_id] = _Progress(power.watts, power.source)
            self._journal.append(
                JournalKind.EVENT_BASELINE,
                event.event_id,
                {"watts": round(power.watts, 1), "source": power.source, "level_w": level_w},
                at=power.at,
            )
        requested = progress.baseline_w - level_w
        met = power.watts <= level_w + self._tolerance_w
        unconfirmed = progress.on_meter is None and 100 in progress.reached
        if met and unconfirmed and power.source == PowerSource.METER:
            # Reached on an estimate before: this is the meter confirming it.
            self._confirm_on_meter(event, progress, power)
        share = 1.0 if requested <= 0 or met else (progress.baseline_w - power.watts) / requested
        for pct in MILESTONES:
            if pct in progress.reached or share * 100 < pct - 1e-9:
                continue
            if pct == 100 and not met:
                continue
            at = max(power.at, event.created_at)
            progress.reached[pct] = at
            if pct == 100 and power.source == PowerSource.METER:
                progress.on_meter = at
            elapsed = at - event.created_at
            self._journal.append(
                JournalKind.EVENT_MILESTONE,
                event.event_id,
                {
                    "pct": pct,
                    "elapsed_s": round(elapsed, 3),
                    "watts": round(power.watts, 1),
                    "source": power.source,
                },
                at=at,
            )
            if pct == 100:
                log.info(
                    "event %s: level %.3f MW met on the %s after %.1f s",
                    event.event_id,
                    event.level_mw,
                    power.source,
                    elapsed,
                )
                if self._on_confirmed is not None:
                    self._on_confirmed(event, elapsed)

    def _confirm_on_meter(self, event: EventRecord, progress: _Progress, power: SitePower) -> None:
        at = max(power.at, event.created_at)
        progress.on_meter = at
        elapsed = at - event.created_at
        self._journal.append(
            JournalKind.EVENT_MILESTONE,
            event.event_id,
            {
                "pct": 100,
                "elapsed_s": round(elapsed, 3),
                "watts": round(power.watts, 1),
                "source": power.source,
                "confirms_estimate": True,
            },
            at=at,
        )
        log.info(
            "event %s: level met on the estimate now confirmed on the meter after %.1f s",
            event.event_id,
            elapsed,
        )

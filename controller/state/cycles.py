"""Wake/sleep cycles per device survive a restart: transitions go to the journal.

The policy bounds how often a miner is cycled per day (``max_cycles_per_day``): cycling
wears machines out. The count lives on each :class:`DeviceRecord` (``wakes``), which a
restarted daemon would otherwise begin empty, letting a unit cycle again after every
``kill -9``. So every sleep/run transition seen in telemetry is journaled, and a
restart rebuilds the last day's wakes and last change from those rows.
"""

from __future__ import annotations

from controller.journal.kinds import JournalKind
from controller.journal.store import Journal
from controller.state.fleet import Fleet
from drivers import MiningState

__all__ = ["CycleJournal"]

_DAY_S = 86_400.0
KIND = JournalKind.DEVICE_STATE


class CycleJournal:
    def __init__(self, fleet: Fleet, journal: Journal) -> None:
        self._fleet = fleet
        self._journal = journal
        self._sleeping: dict[str, bool] = {}  # last journaled state per device
        self._unseen: set[str] = set()  # restored from the journal, not read since

    def observe(self) -> None:
        """After a sweep: journal every device whose sleep state changed since the last."""
        known = self._sleeping
        for record in self._fleet:
            telemetry = record.telemetry
            if telemetry is None:
                continue
            device_id = record.identity.device_id
            sleeping = telemetry.mining_state is MiningState.SLEEPING
            was = known.get(device_id)
            known[device_id] = sleeping
            if was is None or was == sleeping:
                self._unseen.discard(device_id)
                continue
            at = telemetry.taken_at
            self._journal.append(KIND, device_id, {"sleeping": sleeping}, at=at)
            if device_id in self._unseen:
                # Changed while the daemon was down: the record's first reading had nothing
                # before it to compare with, so the change is counted here.
                self._unseen.discard(device_id)
                record.state_changed_at = at
                if not sleeping:
                    record.wakes.append(at)

    async def restore(self, now: float) -> int:
        """Rebuild the last day's wakes and last changes; returns how many rows were read."""
        records = self._fleet.records
        entries = await self._journal.entries([KIND], since_at=now - _DAY_S)
        for entry in entries:
            record = records.get(entry.subject)
            if record is None:
                continue  # a device no longer in the config
            sleeping = bool(entry.data.get("sleeping"))
            record.state_changed_at = entry.at
            if not sleeping:
                record.wakes.append(entry.at)
            self._sleeping[entry.subject] = sleeping
            self._unseen.add(entry.subject)
        return len(entries)

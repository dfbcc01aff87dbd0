"""How long the journal keeps what, and the compaction that enforces it.

A grid program asks for each event's evidence (the instruction, the commands sent for
it, the meter samples, the failures) for a set time: ``days`` (400 by default). That
is the floor for every row. Two kinds of rows come far more often and are worth less
once old, so they go sooner:

* price and hashprice updates (``economics.updated``, one every few seconds from a
  feed) after ``prices_days``; the newest price and the newest hashprice stay;
* snapshots of what the loop remembers (``memory``, and the kinds in
  :data:`SNAPSHOT_KINDS`) after ``state_days``; the newest of each kind and subject stays;
* meter samples (``meter.sample``, one every 2 s while an event runs) are kept whole
  for ``meter_full_days``, then thinned to one per ``meter_sample_s`` until ``days``.

Some rows outlive any age because a restart needs them: the newest override,
pause and relay rows per subject, and every row of an event that has not ended
``days`` ago (a latched relay trip can run for years). Rows of a kind not named here
are evidence: kept ``days``. Each compaction deletes in small transactions (the
writer is never held up for long) and records what it removed, by kind, as a
``journal.compacted`` row.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from controller.journal.kinds import JournalKind

__all__ = [
    "LATEST_PER_SUBJECT_KINDS",
    "PRICE_KIND",
    "SNAPSHOT_KINDS",
    "Compaction",
    "Retention",
    "compact",
]

_DAY_S = 86_400.0
PRICE_KIND = JournalKind.ECONOMICS_UPDATED
PRICE_FIELDS = ("power_price_usd_per_mwh", "hashprice_usd_per_ph_day")
METER_KIND = JournalKind.METER_SAMPLE
# The loop's memory between plans: only the newest matters to a restart. Others that
# write one row per change of a remembered value add their kind here.
SNAPSHOT_KINDS: set[str] = {JournalKind.MEMORY, JournalKind.SITE_OTHER_LOAD}
# Operator state a restart rebuilds from the newest row per subject (never deleted).
LATEST_PER_SUBJECT_KINDS = (
    JournalKind.OVERRIDE_SET,
    JournalKind.OVERRIDE_CLEARED,
    JournalKind.CONTROL_PAUSED,
    JournalKind.CONTROL_RESUMED,
)
_NEVER = ("relay.",)  # relay clears are rare and cancel trips: always kept
_EVENT_RECORDS = (JournalKind.EVENT_CREATED, JournalKind.EVENT_UPDATED, JournalKind.EVENT_CANCELLED)
_CHUNK = 5000


@dataclass(frozen=True, slots=True, kw_only=True)
class Retention:
    days: float = 400.0
    prices_days: float = 7.0
    state_days: float = 7.0
    meter_full_days: float = 30.0
    meter_sample_s: float = 60.0
    every_s: float = 3600.0  # how often the daemon compacts (and once soon after start)

    def __post_init__(self) -> None:
        values = (self.days, self.prices_days, self.state_days, self.meter_full_days)
        if not all(math.isfinite(v) and v >= 0 for v in values):
            raise ValueError("retention days must be finite and >= 0")
        if not (self.meter_sample_s > 0 and self.every_s > 0):
            raise ValueError("meter_sample_s and every_s must be positive")

    def horizon(self, now: float) -> float:
        """Nothing at or after this time is ever removed."""
        shortest = min(self.days, self.prices_days, self.state_days, self.meter_full_days)
        return now - shortest * _DAY_S


@dataclass(frozen=True, slots=True, kw_only=True)
class Compaction:
    started_at: float
    seconds: float
    removed: dict[str, int] = field(default_factory=dict)

    @property
    def rows_removed(self) -> int:
        return sum(self.removed.values())

    def as_json(self) -> dict[str, object]:
        return {
            "started_at": self.started_at,
            "finished_at": self.started_at + self.seconds,
            "seconds": round(self.seconds, 3),
            "rows_removed": self.rows_removed,
            "removed": dict(self.removed),
        }


def compact(conn: sqlite3.Connection, retention: Retention, now: float) -> Compaction:
    """Remove what ``retention`` lets go (blocking: run it in a thread). Memory stays
    bounded whatever the journal's size: rows are read and deleted in chunks."""
    started = time.perf_counter()
    removed: Counter[str] = Counter()
    with conn:
        # The delete trigger refuses any row at or after the newest horizon recorded here.
        conn.execute(
            "INSERT INTO journal_compaction (at, horizon) VALUES (?, ?)",
            (now, retention.horizon(now)),
        )
    keep = _newest_prices(conn) | _newest_snapshots(conn)
    prices_cutoff = now - retention.prices_days * _DAY_S
    _delete_where(conn, removed, "kind = ? AND at < ?", (PRICE_KIND, prices_cutoff), keep)
    for kind in sorted(SNAPSHOT_KINDS):
        cutoff = now - retention.state_days * _DAY_S
        _delete_where(conn, removed, "kind = ? AND at < ?", (kind, cutoff), keep)
    meter_cutoff = now - retention.meter_full_days * _DAY_S
    kept = _first_per_bucket(conn, meter_cutoff, retention.meter_sample_s)
    _delete_where(conn, removed, "kind = ? AND at < ?", (METER_KIND, meter_cutoff), kept)
    cutoff = now - retention.days * _DAY_S
    live = _events_still_relevant(conn, cutoff)

    def expired(kind: str, subject: str) -> bool:
        if kind.startswith(_NEVER) or kind in LATEST_PER_SUBJECT_KINDS:
            return False  # operator state: rare, and a restart rebuilds from it
        return not (kind.startswith("event.") and subject in live)

    _delete_where(conn, removed, "at < ?", (cutoff,), keep, expired)
    return Compaction(started_at=now, seconds=time.perf_counter() - started, removed=dict(removed))


def _newest_prices(conn: sqlite3.Connection) -> set[int]:
    """The newest row carrying each price (a row may carry one, the other, or both)."""
    found = (newest_with_number(conn, PRICE_KIND, name) for name in PRICE_FIELDS)
    return {seq for seq in found if seq is not None}


def newest_with_number(conn: sqlite3.Connection, kind: str, name: str) -> int | None:
    """The seq of the newest ``kind`` row whose ``data`` has a number at key ``name``.

    In SQL, newest first: the rows that say ``null`` (the journal writes JSON without
    spaces) are passed over by a substring test before any JSON is parsed, so a field
    that no row carries costs a quick scan, not 200,000 decodes. Rows that are not
    valid JSON for SQLite (a NaN) are passed over, not an error.
    """
    sql = (
        "SELECT seq FROM journal WHERE kind = ? AND instr(data, ?) = 0 AND "
        "CASE WHEN json_valid(data) THEN json_type(data, ?) IN ('real', 'integer') END "
        "ORDER BY seq DESC LIMIT 1"
    )
    row = conn.execute(sql, (kind, f'"{name}":null', f"$.{name}")).fetchone()
    return None if row is None else int(row[0])


def _newest_snapshots(conn: sqlite3.Connection) -> set[int]:
    kinds = sorted(SNAPSHOT_KINDS)
    marks = ", ".join("?" * len(kinds))
    sql = f"SELECT MAX(seq) FROM journal WHERE kind IN ({marks}) GROUP BY kind, subject"  # noqa: S608 - placeholders only
    return {int(seq) for (seq,) in conn.execute(sql, kinds)}


def _first_per_bucket(conn: sqlite3.Connection, cutoff: float, step_s: float) -> set[int]:
    """Older meter samples: the first of each ``step_s`` bucket stays."""
    sql = "SELECT MIN(seq) FROM journal WHERE kind = ? AND at < ? GROUP BY CAST(at / ? AS INTEGER)"
    return {int(seq) for (seq,) in conn.execute(sql, (METER_KIND, cutoff, step_s))}


def _events_still_relevant(conn: sqlite3.Connection, cutoff: float) -> set[str]:
    """Events not over by ``cutoff``: their rows stay whatever their age."""
    ends: dict[str, float] = {}
    marks = ", ".join("?" * len(_EVENT_RECORDS))
    sql = f"SELECT kind, subject, at, data FROM journal WHERE kind IN ({marks}) ORDER BY seq"  # noqa: S608 - placeholders only
    for kind, subject, at, text in conn.execute(sql, _EVENT_RECORDS):
        if kind == JournalKind.EVENT_CANCELLED:
            ends[subject] = min(ends.get(subject, at), at)
            continue
        event = _decode(text).get("event")
        end = event.get("end") if isinstance(event, dict) else None
        ends[subject] = float(end) if isinstance(end, int | float) else math.inf
    return {subject for subject, end in ends.items() if not end < cutoff}


def _delete_where(
    conn: sqlite3.Connection,
    removed: Counter[str],
    where: str,
    args: tuple[object, ...],
    keep: set[int],
    expired: Callable[[str, str], bool] | None = None,
) -> None:
    """Delete matching rows not in ``keep`` (and ``expired`` by kind and subject), a chunk
    at a time: one short transaction each, so the writer thread waits at most that."""
    sql = f"SELECT seq, kind, subject FROM journal WHERE {where} AND seq > ? ORDER BY seq LIMIT {_CHUNK}"  # noqa: S608, E501 - fixed clauses
    after = 0
    while True:
        rows = conn.execute(sql, (*args, after)).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        doomed = []
        for seq, kind, subject in rows:
            if seq in keep or (expired is not None and not expired(kind, subject)):
                continue
            doomed.append(seq)
            removed[kind] += 1
        if doomed:
            with conn:
                marks = ", ".join("?" * len(doomed))
                conn.execute(f"DELETE FROM journal WHERE seq IN ({marks})", doomed)  # noqa: S608 - placeholders only


def _decode(text: str) -> dict[str, object]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}

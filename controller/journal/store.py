"""The append-only journal: every event, plan change, command, read-back and meter check.

SQLite in WAL mode, written by one thread that owns the write connection. The loop
never blocks on the disk: :meth:`Journal.append` queues a row and returns;
:meth:`Journal.commit` waits until every row queued before it is durable (API writes
that create events and overrides wait for it before they answer). With
``synchronous=NORMAL`` in WAL mode a committed row survives ``kill -9`` of the
process; only a power cut can lose the last transactions.

Triggers refuse UPDATE, and DELETE of any row newer than the horizon the last
compaction recorded: the table is append-only, and only the retention policy
(:mod:`controller.journal.retention`) removes old rows, each removal recorded as a
``journal.compacted`` row. A restart reads only what it needs
(:meth:`Journal.state_entries`), not the whole history.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.clock import Clock, SystemClock
from controller.errors import ControllerError
from controller.journal import retention
from controller.journal.kinds import JournalKind
from controller.journal.lock import JournalLock
from controller.journal.retention import Compaction, Retention

__all__ = ["Entry", "Journal", "JournalError"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT '{}',
    run INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS journal_kind ON journal(kind, seq);
CREATE INDEX IF NOT EXISTS journal_subject ON journal(subject, seq);
CREATE INDEX IF NOT EXISTS journal_kind_at ON journal(kind, at);
CREATE TABLE IF NOT EXISTS journal_compaction (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    horizon REAL NOT NULL
);
CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
DROP TRIGGER IF EXISTS journal_no_delete;
CREATE TRIGGER IF NOT EXISTS journal_only_expired BEFORE DELETE ON journal
    WHEN OLD.at >= COALESCE(
        (SELECT horizon FROM journal_compaction ORDER BY id DESC LIMIT 1), -1e300)
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
"""
_BATCH = 5000
_INSERT = "INSERT INTO journal (at, actor, kind, subject, data, run) VALUES (?, ?, ?, ?, ?, ?)"


class JournalError(ControllerError):
    """The journal file cannot be opened or written."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    seq: int
    at: float
    actor: str
    kind: str
    subject: str
    data: Mapping[str, Any]
    run: int  # which daemon start wrote it (1, 2, ...): tells a restart's rows apart

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "kind": self.kind,
            "subject": self.subject,
            "data": dict(self.data),
            "run": self.run,
        }


_Row = tuple[float, str, str, str, Mapping[str, Any]]
_Flush = asyncio.Future[None]
_STOP = object()


class Journal:
    """``path`` of ``None`` keeps the journal in memory (tests, dry runs): nothing survives."""

    def __init__(self, path: str | Path | None, *, clock: Clock | None = None) -> None:
        self.path = None if path is None else Path(path)
        # Stamps rows appended without a time (the controller passes its own clock).
        self.clock: Clock = clock or SystemClock()
        self.run = 0
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._uri = f"file:hashpivot-journal-{id(self)}?mode=memory&cache=shared"
        self._keep: sqlite3.Connection | None = None  # keeps a memory database alive
        # A shared-cache memory database locks whole tables and fails at once with
        # "database table is locked" (busy_timeout does not apply), so its readers and
        # the writer take turns; a file journal's WAL lets them run side by side.
        self._turns: contextlib.AbstractContextManager[object] = (
            threading.Lock() if self.path is None else contextlib.nullcontext()
        )
        self.rows_written = 0
        self.failed: str | None = None  # the last write's error; None while writes work
        self.rows_failed = 0  # rows a failed write could not record
        self.compaction: Compaction | None = None  # the last one this run
        self._lock = None if self.path is None else JournalLock(self.path)

    def _connect(self) -> sqlite3.Connection:
        if self.path is None:
            conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
        else:
            conn = sqlite3.connect(self.path, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    async def open(self) -> None:
        """Create the file and schema, and number this run (one more than the last)."""
        try:
            self.run = await asyncio.to_thread(self._open_sync)
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"journal {self.path or ':memory:'}: {exc}") from None
        self._thread = threading.Thread(target=self._writer, name="journal-writer", daemon=True)
        self._thread.start()
        log.info("journal %s open (run %d)", self.path or "in memory", self.run)

    def _open_sync(self) -> int:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._lock is not None:
            self._lock.acquire()  # JournalHeld when another live process has it
        try:
            return self._open_locked()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise

    def _open_locked(self) -> int:
        if self.path is not None and (not self.path.exists() or self.path.stat().st_size == 0):
            # Pages freed by compaction go back to the file system. Only a new file can
            # take this, before WAL and the first table (an older one reuses its pages).
            bare = sqlite3.connect(self.path)
            bare.execute("PRAGMA auto_vacuum=INCREMENTAL")
            bare.executescript(_SCHEMA)
            bare.close()
        conn = self._connect()
        conn.executescript(_SCHEMA)
        # Runs only grow, so the newest row has the highest (MAX(run) would read them all).
        row = conn.execute("SELECT run FROM journal ORDER BY seq DESC LIMIT 1").fetchone() or (0,)
        conn.commit()
        if self.path is None:
            self._keep = conn
        else:
            conn.close()
        return int(row[0]) + 1

    def append(
        self,
        kind: JournalKind,
        subject: str = "",
        data: Mapping[str, Any] | None = None,
        *,
        actor: str = "controller",
        at: float | None = None,
    ) -> None:
        """Queue one row; it is written within milliseconds, in order."""
        self._queue.put((self.clock.time() if at is None else at, actor, kind, subject, data or {}))

    def extend(self, rows: Iterable[_Row]) -> None:
        for row in rows:
            self._queue.put(row)

    async def commit(self) -> None:
        """Wait until every row appended so far is on disk."""
        if self._thread is None:
            raise JournalError("the journal is not open")
        future: _Flush = asyncio.get_running_loop().create_future()
        self._queue.put(future)
        await future

    def _writer(self) -> None:
        conn = self._connect()
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch = [first]
                while len(batch) < _BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = _STOP in batch
                with self._turns:
                    self._write(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _write(self, conn: sqlite3.Connection, batch: list[object]) -> None:
        rows = []
        waiters: list[_Flush] = []
        for item in batch:
            if isinstance(item, asyncio.Future):
                waiters.append(item)
            elif isinstance(item, tuple):
                at, actor, kind, subject, data = item
                text = json.dumps(data, separators=(",", ":"), default=str)
                rows.append((at, actor, kind, subject, text, self.run))
        try:
            with conn:
                conn.executemany(_INSERT, rows)
            self.rows_written += len(rows)
            if self.failed is not None:
                log.warning("journal writing again after: %s", self.failed)
                self.failed = None
        except sqlite3.Error as exc:
            # A journal that cannot write is reported loudly but does not stop control:
            # shedding load on a grid instruction matters more than recording it.
            self.rows_failed += len(rows)
            if self.failed is None:
                log.error("journal write failed: %s", exc)  # noqa: TRY400 - no traceback needed
            self.failed = str(exc)
        for waiter in waiters:
            loop = waiter.get_loop()
            with contextlib.suppress(RuntimeError):  # the loop closed while we wrote
                loop.call_soon_threadsafe(_resolve, waiter)

    async def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            await asyncio.to_thread(thread.join, 30)
        if self._keep is not None:
            self._keep.close()
            self._keep = None
        if self._lock is not None:
            self._lock.release()

    # ---- reading ---------------------------------------------------------------------

    async def entries(
        self,
        kinds: Sequence[str] | None = None,
        *,
        subject: str | None = None,
        since_seq: int = 0,
        since_at: float | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Rows in order; ``kinds`` entries ending in ``.`` match a prefix."""
        clauses, args = ["seq > ?"], [since_seq]
        if kinds:
            parts = []
            for kind in kinds:
                if kind.endswith("."):
                    # A range, not LIKE: the (kind, ...) indexes serve it.
                    parts.append("(kind >= ? AND kind < ?)")
                    args.extend([kind, kind[:-1] + "/"])  # type: ignore[list-item]
                else:
                    parts.append("kind = ?")
                    args.append(kind)  # type: ignore[arg-type]
            clauses.append("(" + " OR ".join(parts) + ")")
        if subject is not None:
            clauses.append("subject = ?")
            args.append(subject)  # type: ignore[arg-type]
        if since_at is not None:
            clauses.append("at >= ?")
            args.append(since_at)  # type: ignore[arg-type]
        sql = f"SELECT seq, at, actor, kind, subject, data, run FROM journal WHERE {' AND '.join(clauses)} ORDER BY seq"  # noqa: S608, E501 - clauses are fixed text
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return _entries(await asyncio.to_thread(self._query, sql, tuple(args)))

    async def latest(self, kinds: Sequence[str], *, per_subject: bool = True) -> list[Entry]:
        """The newest row among ``kinds`` (for each subject, with ``per_subject``), in order.

        For state kept as "the last thing said", e.g. ``[JournalKind.OVERRIDE_SET,
        JournalKind.OVERRIDE_CLEARED]`` (or their text) gives each device's override as it stands.
        """
        marks = ", ".join("?" * len(kinds))
        group = "GROUP BY subject" if per_subject else ""
        sql = (
            f"SELECT seq, at, actor, kind, subject, data, run FROM journal WHERE seq IN "  # noqa: S608 - placeholders only
            f"(SELECT MAX(seq) FROM journal WHERE kind IN ({marks}) {group}) ORDER BY seq"
        )
        return _entries(await asyncio.to_thread(self._query, sql, tuple(kinds)))

    async def newest_with(self, kind: str, fields: Sequence[str]) -> list[Entry]:
        """For each of ``fields``, the newest ``kind`` row with a number there (one row may
        serve several), in order: e.g. the last power price and the last hashprice."""
        return await asyncio.to_thread(self._newest_with, kind, tuple(fields))

    def _newest_with(self, kind: str, fields: tuple[str, ...]) -> list[Entry]:
        conn = self._connect()
        try:
            with self._turns:
                seqs = {retention.newest_with_number(conn, kind, name) for name in fields}
                found = sorted(seq for seq in seqs if seq is not None)
                sql = "SELECT seq, at, actor, kind, subject, data, run FROM journal WHERE seq = ?"
                return [_entry(conn.execute(sql, (seq,)).fetchone()) for seq in found]
        finally:
            conn.close()

    async def state_entries(self) -> list[Entry]:
        """What a restart replays into :class:`controller.state.control.ControlState`, in order:
        every event's rows (events are few: tens a month, kept for the retention), relay
        clears, and only the newest override per device, pause, prices and policy memory.
        The history of price updates and memory snapshots is not read."""
        rows = [
            *await self.entries(["event.", "relay."]),
            *await self.latest([JournalKind.OVERRIDE_SET, JournalKind.OVERRIDE_CLEARED]),
            *await self.latest(
                [JournalKind.CONTROL_PAUSED, JournalKind.CONTROL_RESUMED], per_subject=False
            ),
            *await self.newest_with(retention.PRICE_KIND, retention.PRICE_FIELDS),
            *await self.latest([JournalKind.MEMORY]),
        ]
        unique = {entry.seq: entry for entry in rows}
        return [unique[seq] for seq in sorted(unique)]

    # ---- compaction ----------------------------------------------------------------------

    async def compact(self, policy: Retention, now: float | None = None) -> Compaction | None:
        """Remove what the retention policy lets go; ``None`` for an in-memory journal."""
        if self.path is None:
            return None
        at = self.clock.time() if now is None else now
        try:
            result = await asyncio.to_thread(self._compact, policy, at)
        except sqlite3.Error as exc:
            log.error("journal compaction failed: %s", exc)  # noqa: TRY400 - no traceback needed
            return None
        self.compaction = result
        self.append(JournalKind.JOURNAL_COMPACTED, "", result.as_json(), at=at)
        if result.rows_removed:
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(result.removed.items()))
            log.info(
                "journal compacted: %d rows removed in %.1f s (%s)",
                result.rows_removed,
                result.seconds,
                kinds,
            )
        return result

    def _compact(self, policy: Retention, now: float) -> Compaction:
        conn = self._connect()
        try:
            result = retention.compact(conn, policy, now)
            # executescript steps it to the end (execute() would free a single page).
            conn.executescript("PRAGMA incremental_vacuum;")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return result
        finally:
            conn.close()

    def _query(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        conn = self._connect()
        try:
            with self._turns:
                return conn.execute(sql, args).fetchall()
        finally:
            conn.close()


def _entry(row: tuple[Any, ...]) -> Entry:
    return Entry(
        seq=row[0],
        at=row[1],
        actor=row[2],
        kind=row[3],
        subject=row[4],
        data=json.loads(row[5]),
        run=row[6],
    )


def _entries(rows: list[tuple[Any, ...]]) -> list[Entry]:
    return [_entry(row) for row in rows]


def _resolve(future: _Flush) -> None:
    if not future.done():
        future.set_result(None)

"""The append-only journal: every event, plan change, command, read-back and meter check.

SQLite in WAL mode, written by one thread that owns the write connection. The loop
never blocks on the disk: :meth:`Journal.append` queues a row and returns;
:meth:`Journal.commit` waits until every row queued before it is durable (API writes
that create events and overrides wait for it before they answer). With
``synchronous=NORMAL`` in WAL mode a committed row survives ``kill -9`` of the
process; only a power cut can lose the last transactions.

Triggers refuse UPDATE and DELETE, so the table really is append-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.errors import ControllerError
from controller.journal_lock import JournalLock

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
CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON journal
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
"""
_BATCH = 5000
_INSERT = "INSERT INTO journal (at, actor, kind, subject, data, run) VALUES (?, ?, ?, ?, ?, ?)"


class JournalError(ControllerError):
    """The journal file cannot be opened or written."""


@dataclass(frozen=True, slots=True)
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

    def __init__(self, path: str | Path | None) -> None:
        self.path = None if path is None else Path(path)
        self.run = 0
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._uri = f"file:hashpivot-journal-{id(self)}?mode=memory&cache=shared"
        self._keep: sqlite3.Connection | None = None  # keeps a memory database alive
        self.rows_written = 0
        self.failed: str | None = None  # the last write's error; None while writes work
        self.rows_failed = 0  # rows a failed write could not record
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
            conn = self._connect()
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT COALESCE(MAX(run), 0) FROM journal").fetchone()
            conn.commit()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        if self.path is None:
            self._keep = conn
        else:
            conn.close()
        return int(row[0]) + 1

    def append(
        self,
        kind: str,
        subject: str = "",
        data: Mapping[str, Any] | None = None,
        *,
        actor: str = "controller",
        at: float | None = None,
    ) -> None:
        """Queue one row; it is written within milliseconds, in order."""
        self._queue.put((time.time() if at is None else at, actor, kind, subject, data or {}))

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
                    parts.append("kind LIKE ?")
                    args.append(kind + "%")  # type: ignore[arg-type]
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
        rows = await asyncio.to_thread(self._query, sql, tuple(args))
        return [Entry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6]) for r in rows]

    def _query(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        conn = self._connect()
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()


def _resolve(future: _Flush) -> None:
    if not future.done():
        future.set_result(None)

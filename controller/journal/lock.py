"""One live process per journal: a second daemon on the same file would number itself
"run 2" and reload events the first one is acting on.

The lock is ``flock`` on a file beside the journal: the kernel drops it when the holder
exits, even by ``kill -9``, so a stale lock never needs clearing by hand. The holder's
pid is written into it for the error message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from controller.errors import ControllerError

__all__ = ["JournalHeld", "JournalLock"]


class JournalHeld(ControllerError):
    """Another live process has this journal open."""


class JournalLock:
    def __init__(self, journal: Path) -> None:
        self.path = journal.with_name(journal.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            journal = self.path.with_suffix("")
            raise JournalHeld(
                f"journal {journal} is in use by another hashpivot process (pid {holder});"
                " give this one its own journal.path"
            ) from None
        except OSError:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

"""A one-line progress bar on stderr for long runs (only when stderr is a terminal)."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["Progress"]

_WIDTH = 30


class Progress:
    """``update(done)`` redraws ``[#####.....]  45%  what``; ``close()`` ends the line.

    Fifteen lines do not justify a dependency; it draws at most once per percent.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool | None = None):
        self.total = max(1, total)
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = ""
        self._base = 0
        self._shown = -1

    def stage(self, label: str, base: int) -> None:
        self.label, self._base = label, base

    def update(self, done: int) -> None:
        percent = min(100, (self._base + done) * 100 // self.total)
        if not self.enabled or percent == self._shown:
            return
        self._shown = percent
        filled = _WIDTH * percent // 100
        bar = "#" * filled + "." * (_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {percent:3d}%  {self.label:<24}")
        self.stream.flush()

    def close(self) -> None:
        """Show 100% and end the line."""
        self.label, self._base = "done", 0
        self.update(self.total)
        if self.enabled and self._shown >= 0:
            self.stream.write("\n")
            self.stream.flush()

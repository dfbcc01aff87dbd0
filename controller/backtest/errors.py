"""The backtest's exception root: every bad input is one line naming file, line and field."""

from __future__ import annotations

from controller.errors import ControllerError

__all__ = ["BacktestError", "MissingExtra"]


class BacktestError(ControllerError):
    """A bad input or option; ``str()`` is the one line the command prints.

    ``file``, ``line`` (1-based) and ``field`` say where, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message, self.file, self.line, self.field = message, file, line, field
        where = ""
        if file is not None:
            where = file if line is None else f"{file}:{line}"
        if field is not None:
            where = f"{where}: {field}" if where else field
        super().__init__(f"{where}: {message}" if where else message)


class MissingExtra(BacktestError):
    """An optional dependency (matplotlib, for plots) is not installed."""

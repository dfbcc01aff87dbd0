"""Logging for the command-line programs (libraries never configure logging).

Log lines carry text the controller did not write: pause reasons, event ids, device
error strings, request paths. A newline in any of it would forge a second log line
(and NUL or escape bytes reach terminals and collectors), so the one formatter every
program installs escapes control characters in the whole message. One place, so no
call site has to remember; a traceback, added after the message, keeps its lines.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["EscapingFormatter", "configure_logging", "escape_control"]

# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators: all of
# them either break a line for some reader or drive a terminal.
_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
_NAMED = {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x00: "\\0"}
_TABLE = {c: _NAMED.get(c, f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _CONTROLS}


def escape_control(text: str) -> str:
    """``text`` on one line: control characters become backslash escapes."""
    return text.translate(_TABLE)


class EscapingFormatter(logging.Formatter):
    """Formats the line as usual, then escapes it; the traceback is appended unescaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_control(super().formatMessage(record))


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EscapingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiohttp logs every client disconnect at INFO; a fleet of flaky miners would drown the log.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # pymodbus logs every failed meter poll; the controller logs the meter's transitions itself.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

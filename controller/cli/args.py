"""What every ``hashpivot`` subcommand's arguments share: one-line usage errors (exit 2),
the same ``--log-level`` names, and argument types that refuse nonsense early.

The simulators and the GPU agent may not import the controller (import-linter), so
they keep their own few lines to the same effect: same names, same exit status.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from typing import NoReturn

__all__ = [
    "LOG_LEVELS",
    "OneLineParser",
    "add_log_level",
    "fail",
    "host",
    "log_level",
    "one_line",
    "positive_float",
]

LOG_LEVELS = ("debug", "info", "warning", "error")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def one_line(text: str) -> str:
    """An error message fit for one line of a terminal or journald: control characters
    (a newline from a file or an argument) are shown escaped, not obeyed."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class OneLineParser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {one_line(message)} (see {self.prog} --help)\n")


def log_level(text: str) -> str:
    level = text.lower()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a log level; choose from {', '.join(LOG_LEVELS)}"
        )
    return level


def add_log_level(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--log-level",
        type=log_level,
        default=default,
        metavar="LEVEL",
        help=f"{', '.join(LOG_LEVELS)} (default {default})",
    )


_MAX_SECONDS = 86_400.0  # beyond a day a timer is a typo, and asyncio overflows near 1e308


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= _MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number above 0, at most 86400")
    return value


def host(text: str) -> str:
    """An IP address or an RFC 1123 host name, checked before any lookup (the IDNA codec
    would otherwise raise deep inside the resolver)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    name = text.removesuffix(".")
    if 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split(".")):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not an IP address or host name")


def fail(prog: str, message: str, status: int = 2) -> int:
    """Print ``prog: message`` on one line to stderr and return ``status``."""
    print(f"{prog}: {one_line(message)}", file=sys.stderr)
    return status

"""Logging for the command-line programs (libraries never configure logging)."""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiohttp logs every client disconnect at INFO; a fleet of flaky miners would drown the log.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # pymodbus logs every failed meter poll; the controller logs the meter's transitions itself.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

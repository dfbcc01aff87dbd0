"""Signals: what the grid, the market and the network tell the controller, unattended.

A source starts, stops and emits typed updates (:mod:`controller.signals.updates`) into
the hub (:mod:`controller.signals.hub`), which checks them, ages them and hands them to
the same command service the HTTP API uses. Each source has its own section under
``signals:`` in the config file and is off unless configured.
"""

from __future__ import annotations

from controller.signals.config import SignalsConfig, build_sources
from controller.signals.errors import BadSignal, ErrorKind, SignalError, UpstreamError
from controller.signals.source import AgeFrom, PollingSource, Sink, Source
from controller.signals.updates import (
    Contact,
    EventAction,
    EventUpdate,
    FlagUpdate,
    HashpriceUpdate,
    PriceInterval,
    PriceMarket,
    PriceUpdate,
    RelayUpdate,
    Update,
)

__all__ = [
    "AgeFrom",
    "BadSignal",
    "Contact",
    "ErrorKind",
    "EventAction",
    "EventUpdate",
    "FlagUpdate",
    "HashpriceUpdate",
    "PollingSource",
    "PriceInterval",
    "PriceMarket",
    "PriceUpdate",
    "RelayUpdate",
    "SignalError",
    "SignalsConfig",
    "Sink",
    "Source",
    "Update",
    "UpstreamError",
    "build_sources",
]

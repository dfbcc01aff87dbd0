"""The ``make: antminer`` entry of a site file."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import NonNegativeFloat

from simulators.antminer.models import lookup_antminer_model
from simulators.antminer.state import AntminerQuirk
from simulators.entry import MinerEntryBase, known_model

__all__ = ["AntminerEntry"]


class AntminerEntry(MinerEntryBase):
    make: Literal["antminer"]
    model: Annotated[str, known_model(lookup_antminer_model)]
    quirks: tuple[AntminerQuirk, ...] = ()
    set_conf_delay_s: NonNegativeFloat | None = None  # real seconds, overrides slow_set_conf
    username: str = "root"
    password: str = "root"  # noqa: S105 - the stock default, which clients assume
    mode: Literal["normal", "sleep", "low_power"] = "normal"

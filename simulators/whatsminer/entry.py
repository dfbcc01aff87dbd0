"""The ``make: whatsminer`` entry of a site file."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import PositiveInt

from simulators.entry import MinerEntryBase, known_model
from simulators.whatsminer.models import lookup_whatsminer_model
from simulators.whatsminer.state import WhatsminerQuirk

__all__ = ["WhatsminerEntry"]


class WhatsminerEntry(MinerEntryBase):
    make: Literal["whatsminer"]
    model: Annotated[str, known_model(lookup_whatsminer_model)]
    api: Literal["v2", "v3"] = "v2"  # v3: firmware from 2024-11, frames on 4433
    api_writes: bool = False  # the WhatsminerTool API switch; off as shipped
    password: str | None = None  # None: "admin" (v2) / "super" (v3)
    legacy_4028: bool = True  # v3 only: also answer devdetails/get_version on 4028
    firmware: str | None = None
    quirks: tuple[WhatsminerQuirk, ...] = ()
    power_mode: Literal["low", "normal", "high"] = "normal"
    mineroff: bool = False
    power_limit_w: PositiveInt | None = None

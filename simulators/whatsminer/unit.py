"""A Whatsminer as its services see it: the options it was built with, and the
:class:`WhatsminerUnit` interface that API v2 (``rpc_v2.py``, ``v2_reads.py``) and API v3
(``v3.py``) read and change. The device (``device.py``) implements it and serves them;
they name this interface, not the device, so no module of the package imports back the
one that imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from simulators.device import MinerUnit, PoolEntry
from simulators.faults import Fault
from simulators.physics import PhysicsSample, Timings
from simulators.whatsminer.models import WHATSMINER_TIMINGS, WhatsminerModel
from simulators.whatsminer.state import (
    DEFAULT_POOLS,
    PowerMode,
    TokenStore,
    WhatsminerControl,
    WhatsminerQuirk,
)

__all__ = ["WhatsminerOptions", "WhatsminerUnit"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsminerOptions:
    api: Literal["v2", "v3"] = "v2"
    api_writes: bool = False  # the WhatsminerTool API switch; real units ship with it off
    password: str | None = None  # None: the stock default ("admin" v2, "super" v3)
    legacy_4028: bool = True  # a v3 unit still answers devdetails/get_version on 4028
    firmware: str | None = None  # None: FIRMWARE_V2 or FIRMWARE_V3 by `api`
    quirks: frozenset[WhatsminerQuirk] = frozenset()
    faults: tuple[Fault, ...] = ()
    timings: Timings = WHATSMINER_TIMINGS
    pools: tuple[PoolEntry, ...] = DEFAULT_POOLS
    uptime_s: float = 3600.0
    power_mode: PowerMode = PowerMode.NORMAL
    mineroff: bool = False
    power_limit_w: int | None = None  # None: the standard power
    token_ttl_s: float = 1800.0  # real seconds an API v2 token stays valid
    error_codes: tuple[tuple[int, str], ...] = ()


class WhatsminerUnit(MinerUnit, Protocol):
    @property
    def spec(self) -> WhatsminerModel: ...

    @property
    def options(self) -> WhatsminerOptions: ...

    @property
    def control(self) -> WhatsminerControl: ...

    @property
    def tokens(self) -> TokenStore: ...

    @property
    def tokens_v3_password(self) -> str: ...

    @property
    def v3_salt(self) -> str: ...

    @property
    def firmware(self) -> str: ...

    @property
    def psu_serial(self) -> str: ...

    @property
    def board_bins(self) -> tuple[float, ...]: ...

    @property
    def error_codes(self) -> Sequence[tuple[int, str]]: ...

    def psu_fan_rpm(self, sample: PhysicsSample) -> int: ...

"""The simulated Whatsminer registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

import random
from functools import partial

from simulators.clock import SimClock
from simulators.device import SimDevice
from simulators.entry import per_address
from simulators.ports import PortMap
from simulators.registry import ContractVariant, Replay, SimMakeSpec
from simulators.whatsminer.device import WhatsminerDevice, WhatsminerOptions
from simulators.whatsminer.entry import WhatsminerEntry
from simulators.whatsminer.models import (
    WHATSMINER_MODELS,
    WHATSMINER_TIMINGS,
    lookup_whatsminer_model,
    whatsminer_physics,
)
from simulators.whatsminer.state import (
    DEFAULT_POOLS,
    MIN_POWER_LIMIT_W,
    PowerMode,
    WhatsminerQuirk,
)

__all__ = ["SPEC"]


def _build(entry: WhatsminerEntry, clock: SimClock, ports: PortMap, seed: int) -> list[SimDevice]:
    options = WhatsminerOptions(
        api=entry.api,
        api_writes=entry.api_writes,
        password=entry.password,
        legacy_4028=entry.legacy_4028,
        firmware=entry.firmware,
        quirks=frozenset(entry.quirks),
        faults=entry.to_faults(),
        timings=entry.to_timings(WhatsminerOptions().timings),
        pools=entry.to_pools(DEFAULT_POOLS),
        uptime_s=entry.uptime_s,
        power_mode=PowerMode(entry.power_mode),
        mineroff=entry.mineroff,
        power_limit_w=entry.power_limit_w,
    )
    spec = lookup_whatsminer_model(entry.model)
    return per_address(
        entry, seed, partial(WhatsminerDevice, spec=spec, clock=clock, ports=ports, options=options)
    )


def _replay(entry: WhatsminerEntry) -> Replay:
    row = lookup_whatsminer_model(entry.model)
    return Replay(
        # One draw per model (the simulator draws per unit): devices of a kind share physics.
        physics=whatsminer_physics(row, random.Random(row.name)),
        timings=entry.to_timings(WHATSMINER_TIMINGS),
        initial_cap_w=None if entry.power_limit_w is None else float(entry.power_limit_w),
        restart_on_target=True,  # btminer restarts mining to apply a power limit
        target_range_w=(float(MIN_POWER_LIMIT_W), row.nameplate_w),
        writes=entry.api_writes,
    )


_WRITABLE = {"api_writes": True, "password": "hashpivot"}

SPEC = SimMakeSpec(
    make="whatsminer",
    serves=(
        "CGMiner-style RPC on 4028 (API v2); with `api: v3`, length-prefixed JSON frames on "
        "4433. Writes need `api_writes: true` (the API switch; real units ship with it off). "
        f"quirks: {', '.join(WhatsminerQuirk)}."
    ),
    entry=WhatsminerEntry,
    build=_build,
    models=tuple(m.name for m in WHATSMINER_MODELS),
    contract=(
        ContractVariant(
            firmware="api-v2",
            entry={"api": "v2", **_WRITABLE},
            partial_faults=("rpc_down",),
            credentials=("admin", "hashpivot"),
        ),
        ContractVariant(
            firmware="api-v3",
            entry={"api": "v3", **_WRITABLE},
            credentials=("super", "hashpivot"),
        ),
    ),
    replay=_replay,
)

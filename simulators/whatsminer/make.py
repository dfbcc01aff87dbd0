"""The simulated Whatsminer registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

from functools import partial

from simulators.clock import SimClock
from simulators.device import SimDevice
from simulators.entry import per_address
from simulators.ports import PortMap
from simulators.registry import ContractVariant, SimMakeSpec
from simulators.whatsminer.device import WhatsminerDevice, WhatsminerOptions
from simulators.whatsminer.entry import WhatsminerEntry
from simulators.whatsminer.models import WHATSMINER_MODELS, lookup_whatsminer_model
from simulators.whatsminer.state import DEFAULT_POOLS, PowerMode

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


_WRITABLE = {"api_writes": True, "password": "hashpivot"}

SPEC = SimMakeSpec(
    make="whatsminer",
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
)

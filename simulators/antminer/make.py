"""The simulated Antminer registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

from functools import partial

from simulators.antminer.device import AntminerDevice, AntminerOptions
from simulators.antminer.entry import AntminerEntry
from simulators.antminer.models import (
    ANTMINER_MODELS,
    ANTMINER_TIMINGS,
    antminer_physics,
    lookup_antminer_model,
)
from simulators.antminer.state import DEFAULT_POOLS, AntminerQuirk
from simulators.clock import SimClock
from simulators.device import PoolEntry, SimDevice
from simulators.entry import per_address
from simulators.physics import WorkMode
from simulators.ports import PortMap
from simulators.registry import ContractVariant, Replay, SimMakeSpec

__all__ = ["SPEC"]


def _build(entry: AntminerEntry, clock: SimClock, ports: PortMap, seed: int) -> list[SimDevice]:
    options = AntminerOptions(
        quirks=frozenset(entry.quirks),
        faults=entry.to_faults(),
        timings=entry.to_timings(),
        set_conf_delay_s=entry.set_conf_delay_s,
        username=entry.username,
        password=entry.password,
        # The web API always shows three pool slots; unused ones are empty.
        pools=(entry.to_pools(DEFAULT_POOLS) + (PoolEntry("", "", ""),) * 3)[:3],
        uptime_s=entry.uptime_s,
        mode=WorkMode(entry.mode),
    )
    spec = lookup_antminer_model(entry.model)
    return per_address(
        entry, seed, partial(AntminerDevice, spec=spec, clock=clock, ports=ports, options=options)
    )


def _replay(entry: AntminerEntry) -> Replay:
    return Replay(
        physics=antminer_physics(lookup_antminer_model(entry.model)),
        timings=entry.to_timings(ANTMINER_TIMINGS),
    )


SPEC = SimMakeSpec(
    make="antminer",
    serves=(
        "CGMiner-style RPC on 4028 and the CGI web API on 80 (Digest root/root). quirks: "
        f"{', '.join(AntminerQuirk)}."
    ),
    entry=AntminerEntry,
    build=_build,
    models=tuple(m.name for m in ANTMINER_MODELS),
    contract=(ContractVariant(firmware="stock", partial_faults=("web_down", "rpc_down")),),
    replay=_replay,
)

"""The simulated Auradine registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

from functools import partial

from simulators.auradine.device import AuradineDevice, AuradineOptions
from simulators.auradine.entry import AuradineEntry
from simulators.auradine.models import (
    AURADINE_MODELS,
    AURADINE_TIMINGS,
    auradine_physics,
    lookup_auradine_model,
)
from simulators.auradine.state import DEFAULT_POOLS, AuradineMode
from simulators.clock import SimClock
from simulators.device import SimDevice
from simulators.entry import per_address
from simulators.ports import PortMap
from simulators.registry import ContractVariant, Replay, SimMakeSpec

__all__ = ["SPEC"]


def _build(entry: AuradineEntry, clock: SimClock, ports: PortMap, seed: int) -> list[SimDevice]:
    sleep = entry.mode == "sleep"  # FluxOS sleeps through its own switch, not a mode
    options = AuradineOptions(
        username=entry.username,
        password=entry.password,
        token_ttl_s=entry.token_ttl_s,
        faults=entry.to_faults(),
        timings=entry.to_timings(AuradineOptions().timings),
        pools=entry.to_pools(DEFAULT_POOLS),
        uptime_s=entry.uptime_s,
        mode=AuradineMode.NORMAL if sleep else AuradineMode(entry.mode),
        sleep=sleep,
        power_target_w=entry.power_target_w,
    )
    spec = lookup_auradine_model(entry.model)
    return per_address(
        entry, seed, partial(AuradineDevice, spec=spec, clock=clock, ports=ports, options=options)
    )


def _replay(entry: AuradineEntry) -> Replay:
    # A power target moves the level in place, within the model table's range.
    return Replay(
        physics=auradine_physics(lookup_auradine_model(entry.model)),
        timings=entry.to_timings(AURADINE_TIMINGS),
        initial_cap_w=None if entry.power_target_w is None else float(entry.power_target_w),
    )


SPEC = SimMakeSpec(
    make="auradine",
    serves="GCMiner RPC on 4028, the FluxOS REST API on 8080 (admin/admin) and the UI page on 80.",
    entry=AuradineEntry,
    build=_build,
    models=tuple(m.name for m in AURADINE_MODELS),
    contract=(ContractVariant(firmware="fluxos", partial_faults=("web_down", "rpc_down")),),
    replay=_replay,
)

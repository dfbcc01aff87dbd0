"""The simulated GPU node registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

from simulators.clock import SimClock
from simulators.device import SimDevice
from simulators.gpu.entry import GpuEntry
from simulators.gpu.models import GPU_MODELS
from simulators.gpu.site_entry import build_gpu_nodes
from simulators.ports import PortMap
from simulators.registry import SimMakeSpec

__all__ = ["SPEC"]


def _build(entry: GpuEntry, clock: SimClock, ports: PortMap, seed: int) -> list[SimDevice]:
    return build_gpu_nodes(entry, clock, seed)  # the node agent has its own ports


# pyasic does not speak to GPU nodes: no contract cases.
SPEC = SimMakeSpec(
    make="gpu",
    serves="an 8-GPU node: the node-agent API on 9862 and dcgm-exporter metrics on 9400.",
    entry=GpuEntry,
    build=_build,
    models=tuple(GPU_MODELS),
)

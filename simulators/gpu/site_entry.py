"""Hooks for ``make: gpu`` entries in ``hashpivot sim`` site files.

The site loader owns the entry model (it holds the shared base fields: ``count``,
``start``, ``faults``); this module owns what a GPU entry means. An entry reads:

```yaml
  - make: gpu
    model: H200             # H100 | H200 (also "HGX H200 8-GPU")
    count: 2
    start: 127.0.2.1
    gpus: 8                 # optional
    load: 0.9               # optional: job load at start, 0-1
    token: hashpivot-sim    # optional: the simulated agents' bearer token
    settle_s: 1.0           # optional: simulated seconds for a limit change to settle
    dcgm_power_limit: false # optional: also export DCGM_FI_DEV_ENFORCED_POWER_LIMIT
    faults: [slow=0.5]      # optional, as for miners
```
"""

from __future__ import annotations

from typing import Protocol

from simulators.clock import SimClock
from simulators.device import SimDevice
from simulators.faults import parse_fault
from simulators.gpu.device import GpuNodeDevice, GpuNodeOptions
from simulators.gpu.models import lookup_gpu_model

__all__ = ["GpuEntryLike", "build_gpu_nodes", "valid_gpu_model"]


class GpuEntryLike(Protocol):
    model: str
    gpus: int
    load: float
    token: str
    settle_s: float
    dcgm_power_limit: bool
    faults: tuple[str, ...]

    def addresses(self) -> list[str]: ...


def valid_gpu_model(value: str) -> str:
    """A site-file validator: the canonical key, or ValueError naming the known ones."""
    try:
        return lookup_gpu_model(value).key
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from None


def build_gpu_nodes(entry: GpuEntryLike, clock: SimClock, seed: int) -> list[SimDevice]:
    options = GpuNodeOptions(
        gpus=entry.gpus,
        load=entry.load,
        token=entry.token,
        settle_s=entry.settle_s,
        dcgm_power_limit=entry.dcgm_power_limit,
        faults=tuple(parse_fault(f) for f in entry.faults),
    )
    spec = lookup_gpu_model(entry.model)
    return [
        GpuNodeDevice(address, spec, clock, options=options, seed=seed)
        for address in entry.addresses()
    ]

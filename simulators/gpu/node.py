"""A GPU node as its two services see it: the options it was built with, and the
:class:`GpuNode` interface the agent API (``agent_api.py``) and the dcgm-exporter page
(``dcgm.py``) read and change. The device (``device.py``) implements it and serves them;
they name this interface, not the device, so no module of the package imports back the
one that imports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from simulators.clock import SimClock
from simulators.faults import Fault
from simulators.gpu.models import GpuModel
from simulators.gpu.state import GpuState

__all__ = ["AGENT_PORT", "METRICS_PORT", "GpuNode", "GpuNodeOptions"]

AGENT_PORT = 9862
METRICS_PORT = 9400


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuNodeOptions:
    gpus: int = 8
    load: float = 0.95  # the job running at start; 0 for an idle node
    token: str = "hashpivot-sim"  # noqa: S105 - the simulated agent's bearer token
    hostname: str | None = None
    agent_port: int = AGENT_PORT
    metrics_port: int = METRICS_PORT
    settle_s: float | None = None  # seconds a change in draw takes; None: the model's (~1 s)
    boot_s: float = 420.0  # simulated seconds a reboot keeps the node dark
    privileged: bool = True  # False: the agent answers 403, as without root
    dcgm_power_limit: bool = False  # also export DCGM_FI_DEV_ENFORCED_POWER_LIMIT
    driver_version: str = "550.90.07"
    faults: tuple[Fault, ...] = ()


class GpuNode(Protocol):
    @property
    def clock(self) -> SimClock: ...

    @property
    def spec(self) -> GpuModel: ...

    @property
    def options(self) -> GpuNodeOptions: ...

    @property
    def hostname(self) -> str: ...

    @property
    def gpus(self) -> Sequence[GpuState]: ...

    def metrics_text(self) -> str: ...

    def set_limits(self, targets: Mapping[int, float]) -> None: ...

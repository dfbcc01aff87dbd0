"""NVIDIA GPU nodes: the node agent (NVML over HTTP) and the driver that talks to it.

The driver reads from the agent or from dcgm-exporter and writes power limits
through the agent. NVML itself (``pynvml``) is imported only by the agent's real
backend, so nothing here needs a GPU to import.
"""

from __future__ import annotations

from drivers.gpu.errors import (
    GpuLost,
    LimitOutOfRange,
    NoGpuPrivilege,
    NvmlError,
    NvmlUnavailable,
    UnknownGpu,
)
from drivers.gpu.types import GpuReading, NodeReading, RestoreGpuPowerLimits, SetGpuPowerLimit

__all__ = [
    "GpuLost",
    "GpuReading",
    "LimitOutOfRange",
    "NoGpuPrivilege",
    "NodeReading",
    "NvmlError",
    "NvmlUnavailable",
    "RestoreGpuPowerLimits",
    "SetGpuPowerLimit",
    "UnknownGpu",
]

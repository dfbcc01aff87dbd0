"""NVIDIA GPU nodes: the driver that talks to a node's agent or its dcgm-exporter.

The driver reads from the agent (``drivers/gpu_agent/``, a daemon on each GPU node)
or from dcgm-exporter and writes power limits through the agent. NVML itself
(``pynvml``) is imported only by the agent's real backend, never here.
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
from drivers.gpu.types import GpuReading, NodeReading
from drivers.types import RestoreGpuPowerLimits, SetGpuPowerLimit

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

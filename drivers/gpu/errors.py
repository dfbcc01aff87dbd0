"""Typed GPU errors, under the one driver root (:class:`drivers.errors.DriverError`).

The agent maps each to an HTTP status; the driver maps the agent's statuses back
to these, so a caller sees the same type whether NVML failed locally or remotely.
"""

from __future__ import annotations

from drivers.errors import AuthError, DriverError, UnsupportedError, WriteRejected

__all__ = [
    "GpuLost",
    "LimitOutOfRange",
    "NoGpuPrivilege",
    "NvmlError",
    "NvmlUnavailable",
    "UnknownGpu",
]


class NvmlError(DriverError):
    """NVML answered a call with an error this module has no better type for."""

    code = "nvml"

    def __init__(self, host: str, message: str, *, nvml_code: int | None = None) -> None:
        super().__init__(host, message)
        self.nvml_code = nvml_code


class NvmlUnavailable(UnsupportedError):
    """No NVML here: the library, the kernel driver or the GPUs are missing."""

    code = "nvml_unavailable"


class NoGpuPrivilege(AuthError):
    """Setting a power limit needs root (NVML ``NO_PERMISSION``)."""

    code = "no_permission"


class GpuLost(NvmlError):
    """The GPU fell off the bus (NVML ``GPU_IS_LOST``); it needs a reset or a reboot."""

    code = "gpu_lost"


class UnknownGpu(WriteRejected):
    """A request named a GPU index this node does not have."""

    code = "unknown_gpu"

    def __init__(self, host: str, index: int, count: int) -> None:
        super().__init__(host, f"no GPU {index} (this node has {count}: 0-{count - 1})")
        self.index = index
        self.count = count


class LimitOutOfRange(WriteRejected):
    """A power limit outside the GPU's own constraints; nothing was written."""

    code = "out_of_range"

    def __init__(
        self, host: str, *, index: int, requested_w: float, min_w: float, max_w: float
    ) -> None:
        super().__init__(
            host,
            f"GPU {index}: {requested_w:g} W is outside the allowed range {min_w:g}-{max_w:g} W",
        )
        self.index = index
        self.requested_w = requested_w
        self.min_w = min_w
        self.max_w = max_w

"""What one GPU and one GPU node report, in base units (watts, °C, MiB, MHz, joules).

These are the agent's payload and the driver's reading alike: the agent builds them
from NVML, the driver parses them from the agent's JSON or from dcgm-exporter.
Values a source does not report are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["GpuReading", "NodeReading"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuReading:
    index: int
    uuid: str
    name: str
    power_w: float | None
    power_limit_w: float | None  # the enforced limit
    power_limit_min_w: float | None = None
    power_limit_max_w: float | None = None
    power_limit_default_w: float | None = None
    energy_j: float | None = None  # since the driver loaded
    temp_c: float | None = None
    util_pct: float | None = None
    mem_util_pct: float | None = None
    mem_used_mib: float | None = None
    mem_total_mib: float | None = None
    sm_clock_mhz: float | None = None
    mem_clock_mhz: float | None = None
    throttle_reasons: int | None = None  # NVML clocks-event bitmask
    ecc_corrected: int | None = None  # volatile, since the driver loaded
    ecc_uncorrected: int | None = None
    xid_last: int = 0  # 0: none seen since the agent started
    pci_bus_id: str | None = None
    lost: bool = False  # fell off the bus (NVML GPU_IS_LOST): nothing else is known

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeReading:
    hostname: str
    gpus: tuple[GpuReading, ...]
    driver_version: str | None = None
    backend: str = "nvml"
    # What the agent said its handler took (its Server-Timing), when it said; not in JSON.
    agent_s: float | None = None

    @property
    def gpu_power_w(self) -> float | None:
        values = [g.power_w for g in self.gpus if g.power_w is not None]
        return sum(values) if values else None

    @property
    def gpu_power_limit_w(self) -> float | None:
        values = [g.power_limit_w for g in self.gpus if g.power_limit_w is not None]
        return sum(values) if values else None

    def as_json(self) -> dict[str, Any]:
        return {
            "hostname": self.hostname,
            "driver_version": self.driver_version,
            "backend": self.backend,
            "gpu_count": len(self.gpus),
            "gpu_power_w": _round(self.gpu_power_w),
            "gpu_power_limit_w": _round(self.gpu_power_limit_w),
            "gpus": [g.as_json() for g in self.gpus],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)

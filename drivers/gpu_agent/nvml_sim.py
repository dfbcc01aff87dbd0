"""A simulated NVML backend: an 8-GPU H100/H200 node for the agent's tests and ``--simulated``.

It answers in NVML's units and with NVML's failure modes (no permission, lost GPU),
so the agent runs the same code over it as over real NVML. It is deliberately simple;
the site simulator's GPU node (``simulators.gpu``) is the detailed model.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.gpu.errors import GpuLost, LimitOutOfRange, NoGpuPrivilege
from drivers.gpu_agent.nvml import RawGpu

__all__ = ["SIMULATED_MODELS", "SimulatedNvml"]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Model:
    name: str
    min_w: float
    max_w: float
    idle_w: float
    mem_total_bytes: int


SIMULATED_MODELS = {
    "H100": _Model(
        name="NVIDIA H100 80GB HBM3",
        min_w=200,
        max_w=700,
        idle_w=70,
        mem_total_bytes=85_520_809_984,
    ),
    "H200": _Model(
        name="NVIDIA H200", min_w=200, max_w=700, idle_w=75, mem_total_bytes=150_754_820_096
    ),
}
_SETTLE_S = 0.3  # first-order time constant of a power-limit change (real: about 1 s)


class SimulatedNvml:
    """A node whose GPUs draw ``load`` (0-1) of the limit, settling after each change."""

    kind = "simulated"

    def __init__(
        self,
        model: str = "H200",
        *,
        gpus: int = 8,
        host: str = "gpu-sim",
        load: float = 0.9,
        privileged: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.model = SIMULATED_MODELS[model]
        self.privileged = privileged
        self.load = load
        self._clock = clock
        self._lock = threading.Lock()
        now = clock()
        self._limits_mw = [int(self.model.max_w * 1000)] * gpus
        self._from_w = [self._target_w(i) for i in range(gpus)]
        self._changed_at = [now] * gpus
        self._energy_mj = [0.0] * gpus
        self._energy_at = [now] * gpus
        self._lost: set[int] = set()
        self._xids: list[tuple[int, int]] = []

    # Scenario verbs for tests ------------------------------------------------------

    def lose_gpu(self, index: int) -> None:
        self._lost.add(index)

    def raise_xid(self, index: int, xid: int) -> None:
        with self._lock:
            self._xids.append((index, xid))

    # NvmlBackend ------------------------------------------------------------------

    def driver_version(self) -> str:
        return "550.90.07-sim"

    def gpu_count(self) -> int:
        return len(self._limits_mw)

    def _target_w(self, index: int) -> float:
        demand = self.model.idle_w + self.load * (self.model.max_w - self.model.idle_w)
        return min(demand, self._limits_mw[index] / 1000)

    def _power_w(self, index: int, now: float) -> float:
        target = self._target_w(index)
        start = self._from_w[index]
        return target + (start - target) * math.exp(-(now - self._changed_at[index]) / _SETTLE_S)

    def read_raw(self, index: int) -> RawGpu:
        if index in self._lost:
            raise GpuLost(self.host, f"GPU {index} is lost", nvml_code=15)
        with self._lock:
            now = self._clock()
            power = self._power_w(index, now)
            self._energy_mj[index] += power * (now - self._energy_at[index]) * 1000
            self._energy_at[index] = now
            limit = self._limits_mw[index]
            energy = self._energy_mj[index]
        m = self.model
        util = round(100 * self.load)
        return {
            "index": index,
            "name": m.name,
            "uuid": f"GPU-5140{index:04x}-0000-4000-8000-{abs(hash(self.host)) % 10**12:012d}",
            "pci_bus_id": f"00000000:{0x18 + 0x10 * index:02X}:00.0",
            "power_usage_mw": round(power * 1000),
            "enforced_limit_mw": limit,
            "limit_mw": limit,
            "default_limit_mw": int(m.max_w * 1000),
            "constraints_mw": [int(m.min_w * 1000), int(m.max_w * 1000)],
            "energy_mj": round(energy),
            "temperature_c": round(30 + 40 * power / m.max_w),
            "utilization": {"gpu": util, "memory": round(util * 0.5)},
            "memory_bytes": {
                "used": int(m.mem_total_bytes * 0.8 * self.load),
                "total": m.mem_total_bytes,
            },
            "clock_sm_mhz": round(1980 * min(1.0, (limit / 1000 / m.max_w) ** 0.4)),
            "clock_mem_mhz": 2619,
            "clocks_event_reasons": 0x4 if power >= limit / 1000 - 1 else 0,  # SW power cap
            "ecc_volatile": {"corrected": 0, "uncorrected": 0},
            "unsupported": [],
        }

    def set_power_limit_mw(self, index: int, milliwatts: int) -> None:
        if not self.privileged:
            raise NoGpuPrivilege(self.host, "NVML says no permission (run as root)")
        if index in self._lost:
            raise GpuLost(self.host, f"GPU {index} is lost", nvml_code=15)
        lo, hi = self.model.min_w * 1000, self.model.max_w * 1000
        if not lo <= milliwatts <= hi:
            raise LimitOutOfRange(
                self.host,
                index=index,
                requested_w=milliwatts / 1000,
                min_w=lo / 1000,
                max_w=hi / 1000,
            )
        with self._lock:
            now = self._clock()
            self._from_w[index] = self._power_w(index, now)
            self._changed_at[index] = now
            self._limits_mw[index] = milliwatts

    def poll_xids(self, timeout_s: float) -> list[tuple[int, int]]:
        with self._lock:
            found, self._xids = self._xids, []
        return found

    def close(self) -> None:
        return None

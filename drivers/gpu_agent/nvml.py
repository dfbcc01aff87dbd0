"""The NVML seam: a backend protocol in NVML's own units, and the node that uses it.

A backend answers raw NVML values (milliwatts, millijoules, bytes) as plain JSON
data, so a real read can be dumped to a file and replayed bit for bit in tests.
:class:`GpuNode` does the unit conversions and validates every power limit against
the GPU's own constraints before anything is written.

Backends: :mod:`drivers.gpu_agent.nvml_pynvml` (real NVML through ``pynvml``),
:mod:`drivers.gpu_agent.nvml_sim` (a simulated 8-GPU node) and
:mod:`drivers.gpu_agent.recorded` (a replayed dump).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, Protocol

from drivers.errors import ProtocolError, WriteNotApplied
from drivers.gpu.errors import GpuLost, LimitOutOfRange, UnknownGpu
from drivers.gpu.types import GpuReading, NodeReading

__all__ = ["RAW_FORMAT", "GpuNode", "NvmlBackend", "RawGpu", "reading_from_raw"]

_log = logging.getLogger(__name__)

RAW_FORMAT = "hashpivot-nvml-raw/1"
RawGpu = dict[str, Any]
"""One GPU's NVML answers. Keys and units:

``index``, ``name``, ``uuid``, ``pci_bus_id``; ``power_usage_mw``, ``enforced_limit_mw``,
``limit_mw``, ``default_limit_mw``, ``constraints_mw`` ([min, max]); ``energy_mj``;
``temperature_c``; ``utilization`` ({gpu, memory} %); ``memory_bytes`` ({used, total});
``clock_sm_mhz``, ``clock_mem_mhz``; ``clocks_event_reasons``; ``ecc_volatile``
({corrected, uncorrected}). A value NVML does not support is ``null`` and its key is
listed in ``unsupported``.
"""

_MIB = 1024 * 1024


class NvmlBackend(Protocol):
    """NVML for one node, synchronous (NVML is); :class:`GpuNode` calls it from a thread."""

    kind: str  # "nvml" | "simulated" | "recorded"
    host: str

    def driver_version(self) -> str | None: ...

    def gpu_count(self) -> int: ...

    def read_raw(self, index: int) -> RawGpu: ...

    def set_power_limit_mw(self, index: int, milliwatts: int) -> None:
        """Raises NoGpuPrivilege, LimitOutOfRange, GpuLost or NvmlError."""
        ...

    def poll_xids(self, timeout_s: float) -> list[tuple[int, int]]:
        """(gpu index, XID) pairs that arrived, waiting at most ``timeout_s``."""
        ...

    def close(self) -> None: ...


def _num(raw: Mapping[str, Any], key: str, scale: float = 1.0) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} is {type(value).__name__}, not a number")
    return float(value) * scale


def _pair(raw: Mapping[str, Any], key: str, first: str, second: str) -> tuple[Any, Any]:
    value = raw.get(key)
    if value is None:
        return None, None
    if isinstance(value, Mapping):
        return value.get(first), value.get(second)
    return value[0], value[1]


def reading_from_raw(host: str, raw: Mapping[str, Any], xid_last: int = 0) -> GpuReading:
    """Convert one GPU's raw NVML answers into base units."""
    try:
        lo, hi = _pair(raw, "constraints_mw", "min", "max")
        util, mem_util = _pair(raw, "utilization", "gpu", "memory")
        used, total = _pair(raw, "memory_bytes", "used", "total")
        corrected, uncorrected = _pair(raw, "ecc_volatile", "corrected", "uncorrected")
        reasons = raw.get("clocks_event_reasons")
        return GpuReading(
            index=int(raw["index"]),
            uuid=str(raw.get("uuid") or ""),
            name=str(raw.get("name") or ""),
            power_w=_num(raw, "power_usage_mw", 1e-3),
            power_limit_w=_num(raw, "enforced_limit_mw", 1e-3),
            power_limit_min_w=None if lo is None else float(lo) / 1000,
            power_limit_max_w=None if hi is None else float(hi) / 1000,
            power_limit_default_w=_num(raw, "default_limit_mw", 1e-3),
            energy_j=_num(raw, "energy_mj", 1e-3),
            temp_c=_num(raw, "temperature_c"),
            util_pct=None if util is None else float(util),
            mem_util_pct=None if mem_util is None else float(mem_util),
            mem_used_mib=None if used is None else round(float(used) / _MIB, 1),
            mem_total_mib=None if total is None else round(float(total) / _MIB, 1),
            sm_clock_mhz=_num(raw, "clock_sm_mhz"),
            mem_clock_mhz=_num(raw, "clock_mem_mhz"),
            throttle_reasons=None if reasons is None else int(reasons),
            ecc_corrected=None if corrected is None else int(corrected),
            ecc_uncorrected=None if uncorrected is None else int(uncorrected),
            xid_last=xid_last,
            pci_bus_id=None if raw.get("pci_bus_id") is None else str(raw["pci_bus_id"]),
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ProtocolError(host, f"unexpected NVML values: {exc}") from exc


class GpuNode:
    """One node's GPUs through a backend: readings in watts, validated limit writes.

    Blocking: the agent runs these methods in a worker thread. The lock keeps a
    write and its read-back together, so two writers cannot interleave.
    """

    def __init__(self, backend: NvmlBackend, hostname: str | None = None) -> None:
        self.backend = backend
        self.hostname = hostname or backend.host
        self._lock = threading.Lock()
        self._xids: dict[int, int] = {}

    @property
    def host(self) -> str:
        return self.backend.host

    def gpu_count(self) -> int:
        return self.backend.gpu_count()

    def note_xids(self, events: list[tuple[int, int]]) -> None:
        for index, xid in events:
            if self._xids.get(index) != xid:
                _log.warning("%s: GPU %s reported XID %s", self.host, index, xid)
            self._xids[index] = xid

    def read_gpu(self, index: int) -> GpuReading:
        return reading_from_raw(self.host, self.backend.read_raw(index), self._xids.get(index, 0))

    def _read_or_lost(self, index: int) -> GpuReading:
        # One lost GPU must not hide the other seven: report it and carry on.
        try:
            return self.read_gpu(index)
        except GpuLost:
            return GpuReading(
                index=index, uuid="", name="", power_w=None, power_limit_w=None, lost=True
            )

    def read(self) -> NodeReading:
        with self._lock:
            gpus = tuple(self._read_or_lost(i) for i in range(self.backend.gpu_count()))
        return NodeReading(
            hostname=self.hostname,
            gpus=gpus,
            driver_version=self.backend.driver_version(),
            backend=self.backend.kind,
        )

    def _check(self, targets: Mapping[int, float]) -> dict[int, GpuReading]:
        count = self.backend.gpu_count()
        current: dict[int, GpuReading] = {}
        for index, watts in sorted(targets.items()):
            if not 0 <= index < count:
                raise UnknownGpu(self.host, index, count)
            gpu = current[index] = self.read_gpu(index)
            lo, hi = gpu.power_limit_min_w, gpu.power_limit_max_w
            if lo is None or hi is None or not lo <= watts <= hi:
                raise LimitOutOfRange(
                    self.host,
                    index=index,
                    requested_w=watts,
                    min_w=lo if lo is not None else float("nan"),
                    max_w=hi if hi is not None else float("nan"),
                )
        return current

    def set_limits(self, targets: Mapping[int, float]) -> dict[int, float]:
        """Validate every target first, then write them all; returns what is now enforced."""
        with self._lock:
            before = self._check(targets)
            changed = {i: w for i, w in targets.items() if before[i].power_limit_w != w}
            if changed:
                _log.info(
                    "%s: power limit -> %s",
                    self.host,
                    ", ".join(f"GPU {i} {w:g} W" for i, w in sorted(changed.items())),
                )
            for index, watts in sorted(targets.items()):
                self.backend.set_power_limit_mw(index, round(watts * 1000))
            enforced = self._enforced()
        for index, watts in targets.items():
            if abs(enforced[index] - watts) > 1.0:
                raise WriteNotApplied(
                    self.host, f"GPU {index}: asked {watts:g} W, enforced {enforced[index]:g} W"
                )
        return enforced

    def restore_defaults(self) -> dict[int, float]:
        with self._lock:
            count = self.backend.gpu_count()
            defaults = {}
            for index in range(count):
                default = self.read_gpu(index).power_limit_default_w
                if default is not None:
                    defaults[index] = default
        return self.set_limits(defaults)

    def _enforced(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for index in range(self.backend.gpu_count()):
            limit = self.read_gpu(index).power_limit_w
            out[index] = float("nan") if limit is None else limit
        return out

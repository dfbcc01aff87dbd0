"""Real NVML through ``pynvml`` (the ``nvidia-ml-py`` package), imported only when used.

Every read is one NVML call per changing field; a field the GPU or driver does not support
is recorded as unsupported rather than failing the whole read. What cannot change while
the driver is loaded (name, UUID, PCI bus id, default limit, limit constraints) is read once
per GPU and kept: on the real H200 each NVML call that reaches the GPU costs far more than
the cached power reading does, so every call left out of a read counts
(bench/results/gpu_read_path_h200/).
``read_raw`` returns the raw answers, which is what ``hashpivot gpu-agent --dump-node``
writes as a test fixture.
"""

from __future__ import annotations

import importlib
import logging
import socket
from collections.abc import Callable
from typing import Any

from drivers.gpu.errors import GpuLost, NoGpuPrivilege, NvmlError, NvmlUnavailable
from drivers.gpu_agent.nvml import RawGpu
from drivers.gpu_agent.nvml_slow import SlowFields

__all__ = ["PynvmlBackend"]

_log = logging.getLogger(__name__)

# NVML return codes (nvml.h); pynvml exposes them as NVML_ERROR_* too.
_INVALID_ARGUMENT = 2
_NOT_SUPPORTED = 3
_NO_PERMISSION = 4
_TIMEOUT = 10
_FUNCTION_NOT_FOUND = 13
_GPU_IS_LOST = 15
_UNAVAILABLE = frozenset({1, 9, 12, 17, 18})  # uninitialised, no driver, no library, IRQ, lib


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class PynvmlBackend:
    """NVML on this host. Raises :class:`NvmlUnavailable` at construction if there is none."""

    kind = "nvml"

    def __init__(
        self, *, host: str | None = None, nvml: Any = None, slow_refresh_s: float | None = 1.0
    ) -> None:
        """``slow_refresh_s`` None reads every field on every read (a dump does, for one
        consistent moment); else the slow ones come from :class:`SlowFields`."""
        self.host = host or socket.gethostname()
        if nvml is None:
            try:
                nvml = importlib.import_module("pynvml")
            except ImportError as exc:
                raise NvmlUnavailable(
                    self.host, "the nvidia-ml-py package (pynvml) is not installed"
                ) from exc
        self._nvml = nvml
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as exc:
            raise NvmlUnavailable(
                self.host, f"NVML did not initialise ({exc}): no NVIDIA driver or GPU here"
            ) from exc
        self._handles = [
            nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())
        ]
        if not self._handles:
            nvml.nvmlShutdown()
            raise NvmlUnavailable(self.host, "NVML initialised but found no GPUs")
        self._static: dict[int, tuple[RawGpu, list[str]]] = {}
        self._enforced_mw: dict[int, Any] = {}
        self._slow = (
            None
            if slow_refresh_s is None
            else SlowFields(self._read_slow, len(self._handles), period_s=slow_refresh_s)
        )
        self._events = self._register_xid_events()

    def _register_xid_events(self) -> Any:
        nvml = self._nvml
        try:
            events = nvml.nvmlEventSetCreate()
            for handle in self._handles:
                nvml.nvmlDeviceRegisterEvents(handle, nvml.nvmlEventTypeXidCriticalError, events)
        except nvml.NVMLError as exc:
            _log.warning("%s: XID events unavailable (%s); xid_last stays 0", self.host, exc)
            return None
        return events

    def _error(self, exc: Any, what: str) -> Exception:
        code = getattr(exc, "value", None)
        if code == _NO_PERMISSION:
            return NoGpuPrivilege(self.host, f"{what}: NVML says no permission (run as root)")
        if code == _GPU_IS_LOST:
            return GpuLost(self.host, f"{what}: GPU is lost", nvml_code=code)
        if code in _UNAVAILABLE:
            return NvmlUnavailable(self.host, f"{what}: {exc}")
        return NvmlError(self.host, f"{what}: {exc}", nvml_code=code)

    def driver_version(self) -> str | None:
        try:
            return _text(self._nvml.nvmlSystemGetDriverVersion())
        except self._nvml.NVMLError:
            return None

    def nvml_version(self) -> str | None:
        try:
            return _text(self._nvml.nvmlSystemGetNVMLVersion())
        except self._nvml.NVMLError:
            return None

    def gpu_count(self) -> int:
        return len(self._handles)

    def _field(
        self, index: int, raw: RawGpu, unsupported: list[str], key: str, call: Callable[[], Any]
    ) -> None:
        nvml = self._nvml
        try:
            raw[key] = call()
        except nvml.NVMLError as exc:
            if getattr(exc, "value", None) in {_NOT_SUPPORTED, _FUNCTION_NOT_FOUND}:
                raw[key] = None
                unsupported.append(key)
                return
            raise self._error(exc, f"GPU {index} {key}") from exc

    def _read_slow(self, index: int, key: str) -> int:
        handle, nvml = self._handles[index], self._nvml
        if key == "energy_mj":
            return int(nvml.nvmlDeviceGetTotalEnergyConsumption(handle))
        return int(nvml.nvmlDeviceGetPowerManagementLimit(handle))

    def _slow_field(self, index: int, raw: RawGpu, unsupported: list[str], key: str) -> None:
        if self._slow is not None:
            known, value = self._slow.get(index, key)
            if known:
                raw[key] = value
                return
        self._field(index, raw, unsupported, key, lambda: self._read_slow(index, key))
        if self._slow is not None and key not in unsupported:
            self._slow.put(index, key, raw[key])
            self._slow.start()

    def _read_static(self, index: int) -> tuple[RawGpu, list[str]]:
        """The answers that stay put while the driver is loaded, read once per GPU."""
        nvml, handle = self._nvml, self._handles[index]
        raw: RawGpu = {}
        unsupported: list[str] = []

        def field(key: str, call: Callable[[], Any]) -> None:
            self._field(index, raw, unsupported, key, call)

        field("name", lambda: _text(nvml.nvmlDeviceGetName(handle)))
        field("uuid", lambda: _text(nvml.nvmlDeviceGetUUID(handle)))
        field("pci_bus_id", lambda: _text(nvml.nvmlDeviceGetPciInfo(handle).busId))
        field(
            "default_limit_mw", lambda: int(nvml.nvmlDeviceGetPowerManagementDefaultLimit(handle))
        )
        field(
            "constraints_mw",
            lambda: [int(v) for v in nvml.nvmlDeviceGetPowerManagementLimitConstraints(handle)],
        )
        return raw, unsupported

    def read_raw(self, index: int) -> RawGpu:
        nvml, handle = self._nvml, self._handles[index]
        if index not in self._static:
            self._static[index] = self._read_static(index)
        static, static_unsupported = self._static[index]
        raw: RawGpu = {"index": index, **static}
        unsupported = list(static_unsupported)

        def field(key: str, call: Callable[[], Any]) -> None:
            self._field(index, raw, unsupported, key, call)

        def clocks_events() -> int:
            try:
                return int(nvml.nvmlDeviceGetCurrentClocksEventReasons(handle))
            except nvml.NVMLError_FunctionNotFound:  # drivers before 535 name it "throttle"
                return int(nvml.nvmlDeviceGetCurrentClocksThrottleReasons(handle))

        def utilization() -> dict[str, int]:
            rates = nvml.nvmlDeviceGetUtilizationRates(handle)
            return {"gpu": int(rates.gpu), "memory": int(rates.memory)}

        def memory() -> dict[str, int]:
            info = nvml.nvmlDeviceGetMemoryInfo(handle)
            return {"used": int(info.used), "total": int(info.total)}

        def ecc() -> dict[str, int]:
            kind = nvml.NVML_VOLATILE_ECC
            return {
                "corrected": int(
                    nvml.nvmlDeviceGetTotalEccErrors(
                        handle, nvml.NVML_MEMORY_ERROR_TYPE_CORRECTED, kind
                    )
                ),
                "uncorrected": int(
                    nvml.nvmlDeviceGetTotalEccErrors(
                        handle, nvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, kind
                    )
                ),
            }

        field("power_usage_mw", lambda: int(nvml.nvmlDeviceGetPowerUsage(handle)))
        field("enforced_limit_mw", lambda: int(nvml.nvmlDeviceGetEnforcedPowerLimit(handle)))
        if self._slow is not None and self._enforced_mw.get(index) != raw["enforced_limit_mw"]:
            self._slow.forget(index)  # the limit moved (not through us): ask NVML afresh
        self._enforced_mw[index] = raw["enforced_limit_mw"]
        self._slow_field(index, raw, unsupported, "limit_mw")
        self._slow_field(index, raw, unsupported, "energy_mj")
        field(
            "temperature_c",
            lambda: int(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
        )
        field("utilization", utilization)
        field("memory_bytes", memory)
        field("clock_sm_mhz", lambda: int(nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_SM)))
        field(
            "clock_mem_mhz", lambda: int(nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_MEM))
        )
        field("clocks_event_reasons", clocks_events)
        field("ecc_volatile", ecc)
        raw["unsupported"] = unsupported
        return raw

    def set_power_limit_mw(self, index: int, milliwatts: int) -> None:
        try:
            self._nvml.nvmlDeviceSetPowerManagementLimit(self._handles[index], milliwatts)
            if self._slow is not None:
                self._slow.forget(index)
        except self._nvml.NVMLError as exc:
            raise self._error(exc, f"GPU {index} set power limit {milliwatts} mW") from exc

    def poll_xids(self, timeout_s: float) -> list[tuple[int, int]]:
        if self._events is None:
            return []
        nvml = self._nvml
        found: list[tuple[int, int]] = []
        wait_ms = max(0, int(timeout_s * 1000))
        while True:
            try:
                data = nvml.nvmlEventSetWait(self._events, wait_ms)
            except nvml.NVMLError as exc:
                if getattr(exc, "value", None) == _TIMEOUT:
                    return found
                raise self._error(exc, "XID event wait") from exc
            found.append((int(nvml.nvmlDeviceGetIndex(data.device)), int(data.eventData)))
            wait_ms = 0  # drain what is already queued, then return

    def close(self) -> None:
        if self._slow is not None:
            self._slow.stop()
        try:
            if self._events is not None:
                self._nvml.nvmlEventSetFree(self._events)
            self._nvml.nvmlShutdown()
        except self._nvml.NVMLError as exc:
            _log.debug("%s: NVML shutdown: %s", self.host, exc)

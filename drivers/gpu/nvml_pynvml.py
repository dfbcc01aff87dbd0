"""Real NVML through ``pynvml`` (the ``nvidia-ml-py`` package), imported only when used.

Every read is one NVML call per field; a field the GPU or driver does not support is
recorded as unsupported rather than failing the whole read. ``record`` keeps the raw
answers, which is what ``hashpivot gpu-agent --dump-node`` writes as a test fixture.
"""

from __future__ import annotations

import importlib
import logging
import socket
from collections.abc import Callable
from typing import Any

from drivers.gpu.errors import GpuLost, NoGpuPrivilege, NvmlError, NvmlUnavailable
from drivers.gpu.nvml import RawGpu

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

    def __init__(self, *, host: str | None = None, nvml: Any = None) -> None:
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

    def read_raw(self, index: int) -> RawGpu:
        nvml, handle = self._nvml, self._handles[index]
        raw: RawGpu = {"index": index}
        unsupported: list[str] = []

        def field(key: str, call: Callable[[], Any]) -> None:
            try:
                raw[key] = call()
            except nvml.NVMLError as exc:
                if getattr(exc, "value", None) in {_NOT_SUPPORTED, _FUNCTION_NOT_FOUND}:
                    raw[key] = None
                    unsupported.append(key)
                    return
                raise self._error(exc, f"GPU {index} {key}") from exc

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

        field("name", lambda: _text(nvml.nvmlDeviceGetName(handle)))
        field("uuid", lambda: _text(nvml.nvmlDeviceGetUUID(handle)))
        field("pci_bus_id", lambda: _text(nvml.nvmlDeviceGetPciInfo(handle).busId))
        field("power_usage_mw", lambda: int(nvml.nvmlDeviceGetPowerUsage(handle)))
        field("enforced_limit_mw", lambda: int(nvml.nvmlDeviceGetEnforcedPowerLimit(handle)))
        field("limit_mw", lambda: int(nvml.nvmlDeviceGetPowerManagementLimit(handle)))
        field(
            "default_limit_mw", lambda: int(nvml.nvmlDeviceGetPowerManagementDefaultLimit(handle))
        )
        field(
            "constraints_mw",
            lambda: [int(v) for v in nvml.nvmlDeviceGetPowerManagementLimitConstraints(handle)],
        )
        field("energy_mj", lambda: int(nvml.nvmlDeviceGetTotalEnergyConsumption(handle)))
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
        try:
            if self._events is not None:
                self._nvml.nvmlEventSetFree(self._events)
            self._nvml.nvmlShutdown()
        except self._nvml.NVMLError as exc:
            _log.debug("%s: NVML shutdown: %s", self.host, exc)

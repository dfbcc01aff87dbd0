"""A stand-in for the ``pynvml`` module: the calls PynvmlBackend makes, NVML's units and errors."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

NVML_TEMPERATURE_GPU = 0
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_VOLATILE_ECC = 0
NVML_MEMORY_ERROR_TYPE_CORRECTED = 0
NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
nvmlEventTypeXidCriticalError = 8


class NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(f"NVML error {value}")
        self.value = value


class NVMLError_FunctionNotFound(NVMLError):
    pass


class FakeNvml:
    """Module-shaped: pass an instance as ``PynvmlBackend(nvml=...)``."""

    NVMLError = NVMLError
    NVMLError_FunctionNotFound = NVMLError_FunctionNotFound

    def __init__(self, gpus: int = 2, *, init_error: int | None = None) -> None:
        for name, value in globals().items():
            if name.startswith(("NVML_", "nvmlEvent")):
                setattr(self, name, value)
        self.init_error = init_error
        self.limits_mw = [700_000] * gpus
        self.no_permission = False
        self.events: list[tuple[int, int]] = []
        self.calls: list[str] = []

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise NVMLError(self.init_error)

    def nvmlShutdown(self) -> None:
        self.calls.append("shutdown")

    def nvmlDeviceGetCount(self) -> int:
        return len(self.limits_mw)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetIndex(self, h: int) -> int:
        return h

    def nvmlSystemGetDriverVersion(self) -> str:
        return "550.90.07"

    def nvmlSystemGetNVMLVersion(self) -> str:
        return "12.550.90.07"

    def nvmlDeviceGetName(self, h: int) -> bytes:
        return b"NVIDIA H200"  # old pynvml returns bytes

    def nvmlDeviceGetUUID(self, h: int) -> str:
        return f"GPU-0000000{h}-aaaa-bbbb-cccc-dddddddddddd"

    def nvmlDeviceGetPciInfo(self, h: int) -> Any:
        return SimpleNamespace(busId=f"00000000:{h:02X}:00.0")

    def nvmlDeviceGetPowerUsage(self, h: int) -> int:
        return 612_400

    def nvmlDeviceGetEnforcedPowerLimit(self, h: int) -> int:
        return self.limits_mw[h]

    def nvmlDeviceGetPowerManagementLimit(self, h: int) -> int:
        return self.limits_mw[h]

    def nvmlDeviceGetPowerManagementDefaultLimit(self, h: int) -> int:
        return 700_000

    def nvmlDeviceGetPowerManagementLimitConstraints(self, h: int) -> list[int]:
        return [200_000, 700_000]

    def nvmlDeviceGetTotalEnergyConsumption(self, h: int) -> int:
        return 5_000_000

    def nvmlDeviceGetTemperature(self, h: int, sensor: int) -> int:
        return 63

    def nvmlDeviceGetUtilizationRates(self, h: int) -> Any:
        return SimpleNamespace(gpu=98, memory=40)

    def nvmlDeviceGetMemoryInfo(self, h: int) -> Any:
        return SimpleNamespace(used=64 * 1024**3, total=141 * 1024**3, free=77 * 1024**3)

    def nvmlDeviceGetClockInfo(self, h: int, kind: int) -> int:
        return 1980 if kind == NVML_CLOCK_SM else 3201

    def nvmlDeviceGetCurrentClocksEventReasons(self, h: int) -> int:
        raise NVMLError_FunctionNotFound(13)

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, h: int) -> int:
        return 4

    def nvmlDeviceGetTotalEccErrors(self, h: int, kind: int, counter: int) -> int:
        raise NVMLError(3)  # NOT_SUPPORTED, as on GPUs with ECC off

    def nvmlDeviceSetPowerManagementLimit(self, h: int, mw: int) -> None:
        if self.no_permission:
            raise NVMLError(4)
        self.limits_mw[h] = mw

    def nvmlEventSetCreate(self) -> str:
        return "events"

    def nvmlDeviceRegisterEvents(self, h: int, kinds: int, events: str) -> None:
        return None

    def nvmlEventSetWait(self, events: str, timeout_ms: int) -> Any:
        if not self.events:
            raise NVMLError(10)  # TIMEOUT
        index, xid = self.events.pop(0)
        return SimpleNamespace(device=index, eventData=xid)

    def nvmlEventSetFree(self, events: str) -> None:
        self.calls.append("event_free")

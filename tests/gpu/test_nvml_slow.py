"""The read path keeps NVML's slow and unchanging answers out of every read.

On the real H200 the energy counter costs about 3 ms a call and the requested limit about
165 us, where the rest cost 1-8 us (bench/results/gpu_read_path_h200/); name, UUID, PCI id,
default limit and constraints never change while the driver is loaded.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

import pytest

from drivers.gpu.errors import NvmlError
from drivers.gpu_agent.nvml import GpuNode
from drivers.gpu_agent.nvml_pynvml import PynvmlBackend
from drivers.gpu_agent.nvml_slow import SlowFields
from tests.gpu.fake_pynvml import FakeNvml, NVMLError


class CountingNvml(FakeNvml):
    """FakeNvml that counts calls by name and whose energy counter can move or fail."""

    def __init__(self, gpus: int = 2) -> None:
        super().__init__(gpus)
        self.count: Counter[str] = Counter()
        self.energy_mj = 5_000_000
        self.energy_error: int | None = None

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("nvmlDevice"):
            object.__getattribute__(self, "count")[name] += 1
        return object.__getattribute__(self, name)

    def nvmlDeviceGetTotalEnergyConsumption(self, h: int) -> int:
        if self.energy_error is not None:
            raise NVMLError(self.energy_error)
        return self.energy_mj


def _backend(fake: CountingNvml, refresh: float | None = 3600.0) -> PynvmlBackend:
    return PynvmlBackend(host="n1", nvml=fake, slow_refresh_s=refresh)


def test_unchanging_answers_are_read_once_per_gpu() -> None:
    fake = CountingNvml()
    node = GpuNode(_backend(fake))
    for _ in range(5):
        reading = node.read()
    assert reading.gpus[1].name == "NVIDIA H200"
    assert reading.gpus[1].uuid.startswith("GPU-00000001")
    for call in ("nvmlDeviceGetName", "nvmlDeviceGetUUID", "nvmlDeviceGetPciInfo"):
        assert fake.count[call] == 2, call
    assert fake.count["nvmlDeviceGetPowerUsage"] == 10  # what changes is read every time
    node.backend.close()


def test_slow_answers_come_from_the_refresh_not_each_read() -> None:
    fake = CountingNvml()
    backend = _backend(fake)
    node = GpuNode(backend)
    assert node.read().gpus[0].energy_j == 5000
    fake.energy_mj = 6_000_000
    assert node.read().gpus[0].energy_j == 5000  # the refresh has not run yet
    assert fake.count["nvmlDeviceGetTotalEnergyConsumption"] == 2  # first read, per GPU
    assert backend._slow is not None
    backend._slow.refresh()
    assert node.read().gpus[0].energy_j == 6000
    backend.close()


def test_a_write_or_a_moved_limit_asks_nvml_again() -> None:
    fake = CountingNvml()
    backend = _backend(fake)
    node = GpuNode(backend)
    node.read()
    before = fake.count["nvmlDeviceGetPowerManagementLimit"]
    node.set_limits({0: 450})
    assert node.read().gpus[0].power_limit_w == 450
    assert fake.count["nvmlDeviceGetPowerManagementLimit"] > before
    assert backend.read_raw(0)["limit_mw"] == 450_000
    fake.limits_mw[1] = 500_000  # someone ran nvidia-smi -pl 500 on the node
    assert backend.read_raw(1)["limit_mw"] == 500_000
    backend.close()


def test_a_dump_reads_every_field_every_time() -> None:
    fake = CountingNvml()
    node = GpuNode(_backend(fake, refresh=None))
    node.read()
    fake.energy_mj = 7_000_000
    assert node.read().gpus[0].energy_j == 7000
    assert fake.count["nvmlDeviceGetTotalEnergyConsumption"] == 4


def test_a_failing_refresh_is_logged_once_and_reads_report_the_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = CountingNvml()
    backend = _backend(fake)
    node = GpuNode(backend)
    node.read()
    fake.energy_error = 999  # NVML_ERROR_UNKNOWN
    assert backend._slow is not None
    with caplog.at_level(logging.WARNING, logger="drivers.gpu_agent.nvml_slow"):
        backend._slow.refresh()
        backend._slow.refresh()
    failed = [r.getMessage() for r in caplog.records if "refresh failed" in r.message]
    assert sorted(failed) == [  # once per GPU, not once per refresh
        "GPU 0 energy_mj refresh failed: NVML error 999",
        "GPU 1 energy_mj refresh failed: NVML error 999",
    ]
    with pytest.raises(NvmlError):
        node.read_gpu(0)
    fake.energy_error = None
    backend._slow.refresh()
    assert node.read().gpus[0].energy_j == 5000
    backend.close()


def test_the_refresh_thread_runs_and_stops() -> None:
    reads: list[tuple[int, str]] = []

    def read(index: int, key: str) -> int:
        reads.append((index, key))
        return 1

    slow = SlowFields(read, 2, period_s=0.01)
    slow.start()
    try:
        for _ in range(200):
            if len(reads) >= 8:
                break
            time.sleep(0.01)
    finally:
        slow.stop()
    assert {(0, "energy_mj"), (1, "limit_mw")} <= set(reads)
    assert slow.get(1, "energy_mj") == (True, 1)

"""The real H200 recording (driver 580.159.04) against nvidia-smi's view of the same moment.

``nvml_h200_580.159.04.json`` was written by ``hashpivot gpu-agent --dump-node`` on a real
H200 and ``nvidia-smi_h200_580.159.04.txt`` by ``nvidia-smi -q`` a second later, idle. The
replay through the agent's conversion must read what nvidia-smi printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from drivers.gpu.parse import node_from_agent
from drivers.gpu.types import GpuReading
from drivers.gpu_agent.nvml import GpuNode
from drivers.gpu_agent.recorded import RecordedNvml
from drivers.gpu_agent.server import make_app
from tests.gpu.nvsmi import parse_query

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gpu"
DUMP = FIXTURES / "nvml_h200_580.159.04.json"
SMI = FIXTURES / "nvidia-smi_h200_580.159.04.txt"


def _watts(text: str) -> float:
    return float(text.removesuffix(" W"))


def _number(text: str) -> float:
    return float(text.split(maxsplit=1)[0])


@pytest.fixture(scope="module")
def smi() -> dict[str, str]:
    return parse_query(SMI.read_text())


async def _replayed() -> GpuReading:
    app = make_app(GpuNode(RecordedNvml.load(DUMP)), token=None)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        body = await (await client.get("/v1/node")).json()
    node = node_from_agent("h200", body)
    assert node.driver_version == "580.159.04"
    assert len(node.gpus) == 1
    return node.gpus[0]


def test_the_recording_is_real() -> None:
    doc = json.loads(DUMP.read_text())
    assert doc["real"] is True
    assert doc["backend"] == "nvml"
    assert doc["gpus"][0]["unsupported"] == []  # every field answered on this driver


def test_nvidia_smi_parses(smi: dict[str, str]) -> None:
    assert smi["GPU"] == "00000000:00:06.0"
    assert smi["Driver Version"] == "580.159.04"
    assert smi["Clocks/SM"] == "345 MHz"


async def test_replay_reads_what_nvidia_smi_printed(smi: dict[str, str]) -> None:
    gpu = await _replayed()
    power = "GPU Power Readings/"
    assert gpu.pci_bus_id == smi["GPU"]
    assert gpu.name == "NVIDIA H200"
    # NVML's power usage is the driver's 1 s average, as nvidia-smi's "Average Power Draw";
    # the two were read about a second apart, both idle.
    assert gpu.power_w == pytest.approx(_watts(smi[power + "Average Power Draw"]), abs=1.0)
    assert gpu.power_limit_w == _watts(smi[power + "Current Power Limit"])
    assert gpu.power_limit_default_w == _watts(smi[power + "Default Power Limit"])
    assert gpu.power_limit_min_w == _watts(smi[power + "Min Power Limit"])
    assert gpu.power_limit_max_w == _watts(smi[power + "Max Power Limit"])
    assert gpu.temp_c == _number(smi["Temperature/GPU Current Temp"])
    assert gpu.sm_clock_mhz == _number(smi["Clocks/SM"])
    assert gpu.mem_clock_mhz == _number(smi["Clocks/Memory"])
    assert gpu.mem_total_mib == _number(smi["FB Memory Usage/Total"])
    # NVML's v1 memory info counts the driver's reservation as used; nvidia-smi splits it out.
    reserved = _number(smi["FB Memory Usage/Reserved"]) + _number(smi["FB Memory Usage/Used"])
    assert gpu.mem_used_mib == pytest.approx(reserved, abs=1.0)
    assert gpu.ecc_corrected == int(smi["ECC Errors/Volatile/DRAM Correctable"])
    assert gpu.ecc_uncorrected == int(smi["ECC Errors/Volatile/DRAM Uncorrectable"])


async def test_clock_event_bits_match_nvidia_smi(smi: dict[str, str]) -> None:
    gpu = await _replayed()
    assert gpu.throttle_reasons is not None
    # NVML clocks-event bits as nvidia-smi names them (nvml.h nvmlClocksEventReason*).
    bits = {
        0x1: "Clocks Event Reasons/Idle",
        0x2: "Clocks Event Reasons/Applications Clocks Setting",
        0x4: "Clocks Event Reasons/SW Power Cap",
        0x8: "Clocks Event Reasons/HW Slowdown",
        0x10: "Clocks Event Reasons/Sync Boost",
        0x20: "Clocks Event Reasons/SW Thermal Slowdown",
    }
    for bit, path in bits.items():
        assert (gpu.throttle_reasons & bit != 0) == (smi[path] == "Active"), path

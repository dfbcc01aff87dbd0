"""PynvmlBackend over a fake pynvml: units, unsupported fields, errors, XIDs, dumps; and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.gpu.errors import LimitOutOfRange, NoGpuPrivilege, NvmlUnavailable
from drivers.gpu_agent import cli
from drivers.gpu_agent.nvml import GpuNode
from drivers.gpu_agent.nvml_pynvml import PynvmlBackend
from drivers.gpu_agent.recorded import RecordedNvml, dump_node
from tests.gpu.fake_pynvml import FakeNvml


def test_reads_convert_units_and_mark_unsupported() -> None:
    fake = FakeNvml()
    node = GpuNode(PynvmlBackend(host="n1", nvml=fake))
    reading = node.read()
    gpu = reading.gpus[1]
    assert reading.driver_version == "550.90.07"
    assert len(reading.gpus) == 2
    assert gpu.name == "NVIDIA H200"
    assert gpu.pci_bus_id == "00000000:01:00.0"
    assert gpu.power_w == pytest.approx(612.4)
    assert gpu.power_limit_w == 700
    assert (gpu.power_limit_min_w, gpu.power_limit_max_w) == (200, 700)
    assert gpu.energy_j == 5000
    assert gpu.mem_total_mib == 141 * 1024
    assert gpu.throttle_reasons == 4  # fell back to the pre-535 "throttle" call
    assert gpu.ecc_corrected is None  # NOT_SUPPORTED is a gap, not a failure
    assert "ecc_volatile" in node.backend.read_raw(0)["unsupported"]


def test_limits_validate_then_write_in_milliwatts() -> None:
    fake = FakeNvml()
    node = GpuNode(PynvmlBackend(host="n1", nvml=fake))
    assert node.set_limits({0: 450.5}) == {0: 450.5, 1: 700}
    assert fake.limits_mw[0] == 450_500
    with pytest.raises(LimitOutOfRange) as err:
        node.set_limits({1: 750})
    assert (err.value.min_w, err.value.max_w) == (200, 700)
    fake.no_permission = True
    with pytest.raises(NoGpuPrivilege):
        node.set_limits({1: 500})
    fake.no_permission = False
    assert node.restore_defaults() == {0: 700, 1: 700}


def test_xids_are_drained_per_poll() -> None:
    fake = FakeNvml()
    backend = PynvmlBackend(host="n1", nvml=fake)
    assert backend.poll_xids(0.01) == []
    fake.events = [(1, 79), (0, 48)]
    node = GpuNode(backend)
    node.note_xids(backend.poll_xids(0.01))
    assert [g.xid_last for g in node.read().gpus] == [48, 79]
    backend.close()
    assert fake.calls == ["event_free", "shutdown"]


@pytest.mark.parametrize("code", [9, 12])
def test_no_driver_or_library_is_nvml_unavailable(code: int) -> None:
    with pytest.raises(NvmlUnavailable, match="no NVIDIA driver or GPU"):
        PynvmlBackend(host="n1", nvml=FakeNvml(init_error=code))


def test_no_gpus_is_nvml_unavailable() -> None:
    with pytest.raises(NvmlUnavailable, match="no GPUs"):
        PynvmlBackend(host="n1", nvml=FakeNvml(gpus=0))


def test_a_dump_replays_identically() -> None:
    node = GpuNode(PynvmlBackend(host="n1", nvml=FakeNvml()))
    document = json.loads(json.dumps(dump_node(node.backend)))
    assert document["real"] is True
    assert document["nvml_version"] == "12.550.90.07"
    replayed = GpuNode(RecordedNvml(document), hostname="n1").read()
    assert replayed.gpus == node.read().gpus


def test_cli_without_nvml_says_so_and_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        PynvmlBackend().close()
    except NvmlUnavailable:
        pass
    else:
        pytest.skip("this host has NVML")
    assert cli.main(["--listen", "127.0.0.1:0"]) == 3
    err = capsys.readouterr().err
    assert "NVML is not available" in err
    assert "--simulated" in err


def test_cli_dumps_the_simulated_node(tmp_path: Path) -> None:
    out = tmp_path / "nvml_h100_sim.json"
    assert cli.main(["--simulated", "H100", "--dump-node", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["real"] is False
    assert len(document["gpus"]) == 8
    assert document["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9862", ("127.0.0.1", 9862)),
        ("10.0.0.7", ("10.0.0.7", 9862)),
        ("[::1]:9000", ("::1", 9000)),
        ("[::1]", ("::1", 9862)),
    ],
)
def test_listen_addresses(text: str, expected: tuple[str, int]) -> None:
    assert cli.parse_listen(text) == expected


@pytest.mark.parametrize("text", [":9862", "host:-1", "host:99999", "host:x"])
def test_bad_listen_addresses(text: str) -> None:
    with pytest.raises(ValueError):
        cli.parse_listen(text)


def test_cli_rejects_a_missing_token_file(tmp_path: Path) -> None:
    assert cli.main(["--simulated", "--token-file", str(tmp_path / "absent")]) == 2

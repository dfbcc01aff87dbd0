"""``python -m simulators.cli``: device lines, ``ready``, the control plane, clean exits."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SITE = """\
site: cli
devices:
  - make: antminer
    model: S21
    count: 2
    start: 127.77.21.1
  - make: antminer
    model: S19j Pro
    start: 127.77.21.10
    faults: [stall]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "simulators.cli", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until_ready(process: subprocess.Popen[str], limit_s: float = 15.0) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.strip() == "ready":
            return lines
        lines.append(line.strip())
    process.kill()
    _, err = process.communicate()
    pytest.fail(f"no ready line; got {lines}, stderr {err[-2000:]}")


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(SITE)
    return path


@pytest.fixture
def simulator(site_file: Path) -> Iterator[tuple[subprocess.Popen[str], list[str], int]]:
    control = free_port()
    process = start(str(site_file), "--speed", "60", "--control", f"127.0.0.1:{control}")
    try:
        lines = read_until_ready(process)
        yield process, lines, control
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def http(method: str, url: str, body: dict[str, object] | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:  # loopback only
        return json.loads(response.read())


def test_prints_devices_then_ready_and_exits_0_on_sigterm(
    simulator: tuple[subprocess.Popen[str], list[str], int],
) -> None:
    process, lines, _ = simulator
    assert lines == [
        "antminer S21 127.77.21.1",
        "antminer S21 127.77.21.2",
        "antminer S19j Pro 127.77.21.10",
    ]
    with socket.create_connection(("127.77.21.1", 4028), timeout=2) as conn:
        conn.sendall(b'{"command":"version"}')
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    assert json.loads(reply[:-1])["VERSION"][0]["Type"] == "Antminer S21"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_sigint_exits_0(simulator: tuple[subprocess.Popen[str], list[str], int]) -> None:
    process, _, _ = simulator
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    _, err = process.communicate()
    assert "Traceback" not in err


def test_control_plane(simulator: tuple[subprocess.Popen[str], list[str], int]) -> None:
    _, _, port = simulator
    base = f"http://127.0.0.1:{port}"
    state = http("GET", f"{base}/devices")
    assert isinstance(state, dict)
    devices = {d["address"]: d for d in state["devices"]}
    assert devices["127.77.21.1"]["phase"] == "running"
    assert devices["127.77.21.1"]["power_w"] > 3000
    assert devices["127.77.21.1"]["hashrate_hs"] > 1e14
    assert devices["127.77.21.10"]["faults"] == ["stall"]

    http("POST", f"{base}/devices/127.77.21.1/faults", {"fault": "refuse"})
    with socket.create_connection(("127.77.21.1", 4028), timeout=2) as conn:
        conn.sendall(b'{"command":"version"}')
        with contextlib.suppress(ConnectionResetError):
            assert conn.recv(100) == b""
    http("DELETE", f"{base}/devices/127.77.21.1/faults")
    one = http("GET", f"{base}/devices/127.77.21.1")
    assert isinstance(one, dict)
    assert one["faults"] == []

    chosen = http("POST", f"{base}/faults", {"fault": "slow", "seconds": 0.1, "fraction": 0.5})
    assert isinstance(chosen, dict)
    assert len(chosen["devices"]) in (1, 2)


def test_help_teaches() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "simulators.cli", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert out.returncode == 0
    for word in ("--speed", "--listen", "--unprivileged", "--control", "ready"):
        assert word in out.stdout


def test_bad_site_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SITE.replace("S19j Pro", "S99"))
    out = subprocess.run(
        [sys.executable, "-m", "simulators.cli", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert "devices[1].model" in out.stderr
    assert out.stderr.strip().count("\n") == 0

"""The command line as an operator meets it: help, bad input, probe, run and stop."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simulators import Fleet
from tests.conftest import HASHPIVOT, antminers, free_port

MODELS = ["S19j Pro", "S19 XP", "S21", "S21 XP", "S21 Hydro"]


async def _hashpivot(*args: str, timeout: float = 30.0) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *HASHPIVOT, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def sim() -> AsyncIterator[Fleet]:
    async with antminers("cli-test", "127.0.71", MODELS) as fleet:
        yield fleet


async def test_help_teaches() -> None:
    code, out, _ = await _hashpivot("--help")
    assert code == 0
    for word in ("sim", "run", "probe", "demo"):
        assert f"hashpivot {word}" in out
    code, out, _ = await _hashpivot("probe", "--help")
    assert code == 0
    assert "NAME=PORT" in out
    assert "Exit status" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("site: s\ndevices: []\n", "devices"),
        (
            "site: s\npoll_interval_s: fast\ndevices: [{make: antminer, address: 127.0.0.1}]\n",
            "poll_interval_s",
        ),
        ("site: [\n", "not valid YAML"),
    ],
)
async def test_run_with_bad_config_says_what_and_exits_2(
    tmp_path: Path, text: str, expected: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    code, _, err = await _hashpivot("run", str(config))
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


async def test_probe_identifies_every_simulated_model(sim: Fleet) -> None:
    for device in sim.devices:
        code, out, err = await _hashpivot("probe", device.address)
        assert code == 0, err
        snapshot = json.loads(out)
        assert snapshot["make"] == "antminer"
        assert snapshot["model"] == device.model
        assert snapshot["mining_state"] == "hashing"
        assert snapshot["hashrate_hs"] > 1e13
        assert snapshot["power_w"] > 1000
        assert len(snapshot["fans_rpm"]) == len(device.snapshot().fans_rpm)  # hydro: none
        assert len(snapshot["boards"]) == 3
        assert snapshot["temperatures_c"]["chips"]


async def test_probe_with_explicit_make(sim: Fleet) -> None:
    code, out, _ = await _hashpivot("probe", "127.0.71.3", "--make", "antminer")
    assert code == 0
    assert json.loads(out)["model"] == "S21"


async def test_probe_of_nothing_exits_3_without_traceback() -> None:
    code, _, err = await _hashpivot("probe", "127.0.71.250", "--timeout", "1")
    assert code == 3
    assert "nothing answered at 127.0.71.250" in err
    assert "Traceback" not in err


async def test_run_serves_until_sigterm(sim: Fleet, tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "site.yaml"
    config.write_text(
        f"site: cli-test\nlisten: 127.0.0.1:{port}\npoll_interval_s: 0.5\n"
        f"devices: [{{make: antminer, start: 127.0.71.1, count: {len(MODELS)}}}]\n"
    )
    process = await asyncio.create_subprocess_exec(
        *HASHPIVOT,
        "run",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        body = b""
        async with asyncio.timeout(20):
            while b"hashpivot_device_hashrate_hashes_per_second{" not in body:
                await asyncio.sleep(0.2)
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    continue
                writer.write(b"GET /metrics HTTP/1.0\r\n\r\n")
                body = await reader.read()
                writer.close()
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 15)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err

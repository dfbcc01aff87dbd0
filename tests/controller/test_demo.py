"""`make demo`'s command: a simulated site under the controller, stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).parents[2]


async def test_demo_runs_the_small_site_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    # No config and no site: the examples ship with the package, so any directory will do.
    # A free port, so that a daemon already running here does not clash.
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "controller.cli",
        "demo",
        "--listen",
        f"127.0.0.1:{port}",
        "--refresh",
        "0.5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env={
            **{k: v for k, v in os.environ.items() if k != "HASHPIVOT_API_TOKEN"},
            "PYTHONPATH": str(ROOT),
        },
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not any(line.strip().startswith("gpu ") and "serving" in line for line in seen):
                line = (await process.stdout.readline()).decode()
                assert line, "the demo exited early"
                seen.append(line)
        process.send_signal(signal.SIGINT)
        rest, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
    text = "".join(seen) + rest.decode()
    assert process.returncode == 0, err.decode()
    assert f"http://127.0.0.1:{port}/metrics" in text
    # A token for the API's writes, printed beside the URLs, that the API accepts.
    assert "export HASHPIVOT_API_TOKEN=" in text
    # GPU nodes in an operator's words, and the other load explained.
    gpu_lines = [line for line in text.splitlines() if line.strip().startswith("gpu ")]
    assert gpu_lines
    assert not any("hashing" in line for line in gpu_lines), gpu_lines
    assert any("serving" in line or "idle" in line for line in gpu_lines), gpu_lines
    assert "other load = the meter less the devices" in text
    assert f"page: http://127.0.0.1:{port}/ " in text  # the operator page
    assert "PH/s" in text
    assert "kW" in text
    assert "Traceback" not in err.decode()
    # The simulator child is gone with the demo: its addresses are free again.
    reader_writer = asyncio.open_connection("127.0.1.1", 4028)
    try:
        _, writer = await asyncio.wait_for(reader_writer, 2)
    except OSError:
        return
    writer.close()
    raise AssertionError("the simulator outlived the demo")


def test_the_story_fits_in_the_time_the_readme_gives() -> None:
    """Its steps and the bounded wait for the restore add up to at most STORY_S, the
    "under three minutes" of the README (measured: 2 min 46 s on a 2-core machine)."""
    from controller.demo import scenario as demo_scenario  # noqa: PLC0415

    longest = sum(step.after_s for step in demo_scenario.steps())
    longest += demo_scenario._RESTORE_WAIT_S
    assert longest <= demo_scenario.STORY_S == 180.0
    assert "story of under three minutes" in (ROOT / "README.md").read_text()

"""`make demo`'s command: a simulated site under the controller, stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).parents[2]


async def test_demo_runs_the_small_site_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    # The example config, on a free port so that a daemon already running here does not clash.
    port = free_port()
    example = (ROOT / "deploy/examples/hashpivot-small.yaml").read_text()
    config = tmp_path / "demo.yaml"
    config.write_text(example.replace("127.0.0.1:9861", f"127.0.0.1:{port}"))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "controller.cli",
        "demo",
        str(config),
        "--site",
        str(ROOT / "deploy/examples/site-small.yaml"),
        "--refresh",
        "0.5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not any("hashing" in line for line in seen):
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

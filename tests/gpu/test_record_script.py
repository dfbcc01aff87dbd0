"""The script that records a real GPU node works, shown on the simulated backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from drivers.gpu_agent.nvml import reading_from_raw

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "fixtures" / "gpu" / "record-on-device.sh"


def test_record_script_writes_a_named_dump(tmp_path: Path) -> None:
    env = dict(os.environ, OUT=str(tmp_path), PYTHON=sys.executable)
    env["HASHPIVOT_RECORD_SIMULATED"] = "H200"
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        ["bash", str(SCRIPT)],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (dump,) = tmp_path.glob("nvml_*.json")
    assert dump.name.startswith("nvml_h200_")
    document = json.loads(dump.read_text())
    assert document["real"] is False
    assert len(document["gpus"]) == 8
    for raw in document["gpus"]:
        assert reading_from_raw("dump", raw).name == "NVIDIA H200"

"""``hashpivot backtest deploy/examples/site-small.yaml``: the shipped month, end to end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from controller.backtest.plots import PLOTS
from controller.cli import main


@pytest.mark.slow
def test_the_example_month(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "deploy/examples/site-small.yaml", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "hashpivot beat every other strategy with every event met" in out
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["inputs"]["steps"] == 2976
    strategies = result["strategies"]
    assert set(strategies) == {"hashpivot", "always_mine", "fixed_strike", "no_ai", "upper_bound"}
    ours = strategies["hashpivot"]
    assert all(e["met"] for e in ours["events"])
    for name, s in strategies.items():
        assert strategies["upper_bound"]["usd"]["total"] >= s["usd"]["total"], name
        if name not in {"hashpivot", "upper_bound"}:
            assert ours["usd"]["total"] > s["usd"]["total"], name
    for name in PLOTS:
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(PLOTS)
    assert not re.search(r"""(src|href)=["']?https?:""", page)  # nothing fetched to view it


def test_missing_matplotlib_is_one_line(tmp_path: Path) -> None:
    argv = ["backtest", "deploy/examples/site-small.yaml", "--out", str(tmp_path)]
    code = (
        "import sys; sys.modules['matplotlib'] = None; "
        f"from controller.cli import main; sys.exit(main({argv!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "hashpivot backtest: error: plots need matplotlib: pip install 'hashpivot[backtest]'"
        " (or pass --no-plots)"
    ]

"""``hashpivot backtest --hil``: one line for every bad argument, never a traceback; a short
replay prints both runs side by side and writes them to result.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.backtest.cli import main
from controller.cli.entry import main as hashpivot
from controller.hil import replay
from tests.hil.site import write

SMALL = str(Path(__file__).resolve().parents[2] / "deploy/examples/site-small.yaml")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--hil", "0"], "--hil: HOURS must be above 0"),
        (["--hil", "-2"], "--hil: HOURS must be above 0"),
        (["--hil", "48"], "--hil: HOURS must be above 0 and at most 24"),
        (["--hil", "0.1"], "whole 15-minute intervals"),
        (["--hil", "2", "--hil-start", "2023-09-05T00:00:00Z"], "--hil-start: 2023-09-05"),
        (["--hil", "2", "--hil-start", "2023-08-04T00:05:00Z"], "interval boundary"),
        (["--hil", "2", "--hil-start", "yesterday"], "not an ISO 8601 time"),
        (["--hil-start", "2023-08-04T00:00:00Z"], "go with --hil HOURS"),
        (["--hil-speed", "10"], "go with --hil HOURS"),
        (["--hil", "1", "--hil-start", "2023-08-26T21:00:00Z"], "relay trip relay-0826"),
        (["--hil", "abc"], "argument --hil: invalid float value: 'abc'"),
        (["--hil", "1", "--hil-speed", "0"], "--hil-speed: speed must be above 0 and at most 1000"),
    ],
)
def test_a_bad_hil_argument_is_one_line(
    args: list[str], words: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    try:
        code = main([SMALL, "--no-plots", "--out", str(tmp_path), *args], hil=replay)
    except SystemExit as exit_:  # argparse's own refusals exit from the parser
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert words in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_hil_needs_the_controller_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, config, _ = write(tmp_path)
    config.unlink()
    code = main([str(site), "--no-plots", "--hil", "1", "--out", str(tmp_path)], hil=replay)
    assert code == 2
    assert "--config: --hil runs the real controller" in capsys.readouterr().err


@pytest.mark.slow
def test_a_short_replay_prints_both_runs_and_writes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, _, events = write(tmp_path)
    out = tmp_path / "out"
    code = hashpivot(
        [
            "backtest",
            str(site),
            "--events",
            str(events),
            "--no-plots",
            "--hil",
            "0.5",
            "--hil-start",
            "2023-08-04T00:00:00Z",
            "--hil-speed",
            "300",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "hashpivot policy, HIL (real controller)" in text
    assert "HIL check: 2023-08-04T00:00:00Z..2023-08-04T00:30:00Z (0.5 h)" in text
    data = json.loads((out / "result.json").read_text())
    assert set(data["strategies"]) == {"hashpivot", "hil"}
    assert data["hil"]["figures"]["energy MWh"]["checked"] is True
    assert data["hil"]["speed"] == 300

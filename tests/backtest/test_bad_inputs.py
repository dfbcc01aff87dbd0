"""Every bad input is one line on stderr naming file, line and field; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from controller.backtest.cli import main

_HEADER = "interval_start_utc,settlement_point,price_usd_per_mwh\n"


def _prices(tmp: Path, rows: list[str], header: str = _HEADER) -> Path:
    path = tmp / "prices.csv"
    path.write_text(header + "".join(r + "\n" for r in rows))
    return path


def _rows(n: int = 8) -> list[str]:
    return [
        f"2023-08-03T05:{15 * k:02d}:00Z,LZ_WEST,30"
        if k < 4
        else f"2023-08-03T06:{15 * (k - 4):02d}:00Z,LZ_WEST,30"
        for k in range(n)
    ]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    rc = main(["deploy/examples/site-small.yaml", "--no-plots", *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


def test_missing_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _prices(
        tmp_path, ["2023-08-03T05:00:00Z,LZ_WEST"], header="interval_start_utc,settlement_point\n"
    )
    err = _run(capsys, "--prices", str(path))
    assert f"{path}:1: price_usd_per_mwh: missing column" in err


def test_gap_in_series(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows()
    del rows[3]  # 05:45 missing
    path = _prices(tmp_path, rows)
    err = _run(capsys, "--prices", str(path))
    assert f"{path}:5: interval_start_utc: a gap from 2023-08-03T05:30:00Z" in err


def test_non_numeric_price(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows()
    rows[2] = "2023-08-03T05:30:00Z,LZ_WEST,n/a"
    path = _prices(tmp_path, rows)
    err = _run(capsys, "--prices", str(path))
    assert f"{path}:4: price_usd_per_mwh: not a number: 'n/a'" in err


def test_event_outside_the_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _prices(tmp_path, _rows())
    events = tmp_path / "events.yaml"
    events.write_text(
        yaml.safe_dump(
            {
                "events": [
                    {
                        "id": "ok",
                        "kind": "4cp",
                        "start": "2023-08-03T05:30:00Z",
                        "duration_min": 15,
                    },
                    {
                        "id": "late",
                        "kind": "instructed",
                        "start": "2023-08-09T05:30:00Z",
                        "duration_min": 30,
                        "level_mw": 0.1,
                    },
                ]
            },
            sort_keys=False,
        )
    )
    err = _run(capsys, "--prices", str(path), "--events", str(events))
    assert f"{events}:" in err
    assert "events[1].start" in err
    assert "outside the price series" in err
    line = int(err.split(f"{events}:")[1].split(":")[0])
    assert events.read_text().splitlines()[line - 1].lstrip("- ").startswith("start:")


def test_site_with_no_devices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site-empty.yaml"
    site.write_text(
        yaml.safe_dump(
            {
                "site": "empty",
                "devices": [{"make": "meter", "address": "127.0.190.1", "base_load_w": 1000}],
            }
        )
    )
    rc = main([str(site), "--no-plots"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1
    assert f"{site}: devices: the site has no devices" in err


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--hashprice", "nope.csv"], "nope.csv: --hashprice: neither a number nor a readable"),
        (["--zone", "LZ_MARS"], "settlement_point: no rows for zone 'LZ_MARS'"),
        (["--strategies", "hashpivot,yolo"], "--strategies: unknown strategy 'yolo'"),
        (["--config", "missing.yaml"], "missing.yaml: cannot read"),
    ],
)
def test_other_bad_options(
    capsys: pytest.CaptureFixture[str], args: list[str], expect: str
) -> None:
    assert expect in _run(capsys, *args)


def test_bad_contract_names_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = tmp_path / "contract.yaml"
    contract.write_text("kind: both\nblock_mw: -1\n")
    err = _run(capsys, "--contract", str(contract))
    assert f"{contract}:2: block_mw:" in err

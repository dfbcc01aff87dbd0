"""The CSV and YAML readers take any text: a result or one BacktestError, nothing else."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.backtest import BacktestError, load_contract, load_events, read_prices
from controller.backtest.series import read_hashprice

_HEADER = "interval_start_utc,settlement_point,price_usd_per_mwh\n"
_cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "2023-08-03T05:00:00Z",
            "2023-08-03T05:15:00Z",
            "LZ_WEST",
            "30",
            "nan",
            "-1e9",
            "1e400",
            "",
            "2023-08-03T05:07:00+02:00",
            "inf",
        ]
    ),
)
_row = st.lists(_cell, min_size=0, max_size=4).map(",".join)
_SPAN = (1_691_038_800.0, 1_691_038_800.0 + 86_400)


def _write(text: str, suffix: str) -> Path:
    with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, encoding="utf-8") as f:
        f.write(text)
    return Path(f.name)


def _names(exc: BacktestError, path: Path) -> None:
    """A reader's error names the file it read."""
    if not str(exc).startswith(str(path)):
        raise AssertionError(f"error does not name {path}: {exc}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_row, max_size=8), st.booleans())
def test_price_csv(rows: list[str], header: bool) -> None:
    path = _write((_HEADER if header else "") + "\n".join(rows), ".csv")
    try:
        series = read_prices(path, step_s=900.0)
        assert series.values
    except BacktestError as exc:
        _names(exc, path)
    finally:
        path.unlink()


@settings(max_examples=80, deadline=None)
@given(st.one_of(st.text(max_size=20), st.floats(allow_nan=True).map(str)))
def test_hashprice_value(value: str) -> None:
    try:
        series = read_hashprice(value, start=_SPAN[0], end=_SPAN[1])
        assert series.values[0] >= 0
    except BacktestError:
        pass


_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["2023-08-03T06:00:00Z", "instructed", "4cp", "relay_trip"]),
)
_event = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "kind",
            "start",
            "duration_min",
            "deadline_min",
            "level_mw",
            "obligation_mw",
            "capacity_usd_per_mw_h",
            "penalty_usd_per_mwh",
            "transmission_usd_per_mw",
            "peak",
            "extra",
        ]
    ),
    _scalar,
    max_size=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.lists(_event, max_size=3).map(lambda es: {"events": es}), _scalar, st.text(max_size=40)
    )
)
def test_events_yaml(doc: object) -> None:
    import yaml  # noqa: PLC0415

    text = doc if isinstance(doc, str) else yaml.safe_dump(doc)
    path = _write(text, ".yaml")
    try:
        load_events(path, span=_SPAN)
    except BacktestError as exc:
        _names(exc, path)
    finally:
        path.unlink()


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["kind", "block_mw", "block_usd_per_mwh", "checkpoint_usd_per_node", "other"]
        ),
        _scalar,
    )
)
def test_contract_yaml(doc: dict[str, object]) -> None:
    import yaml  # noqa: PLC0415

    path = _write(yaml.safe_dump(doc), ".yaml")
    try:
        load_contract(path)
    except BacktestError as exc:
        _names(exc, path)
    finally:
        path.unlink()

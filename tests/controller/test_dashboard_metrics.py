"""The metrics the Grafana dashboard adds: economics, break-evens, ages, limit, plan time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from controller.app import Controller
from controller.config.settings import load_config
from drivers.models import MODELS

ROOT = Path(__file__).resolve().parents[2]


def test_economics_and_break_even_per_model(tmp_path: Path) -> None:
    config = load_config(ROOT / "deploy" / "examples" / "hashpivot-small.yaml")
    config = config.model_copy(
        update={"journal": config.journal.model_copy(update={"path": str(tmp_path / "j.sqlite")})}
    )
    controller = Controller(config)
    text = generate_latest(controller.metrics.registry).decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    labels = (("site", "small"), ("source", "config"))
    assert samples[("hashpivot_power_price_usd_per_mwh", labels)] == 30.0
    assert samples[("hashpivot_hashprice_usd_per_ph_day", labels)] == 45.0
    ages = {
        dict(k[1])["signal"]: v
        for k, v in samples.items()
        if k[0] == "hashpivot_economics_age_seconds"
    }
    assert set(ages) == {"power_price", "hashprice", "site_power"}
    assert ages["power_price"] < 5.0
    break_even = {
        dict(k[1])["model"]: v
        for k, v in samples.items()
        if k[0] == "hashpivot_model_break_even_hashprice_usd_per_ph_day"
    }
    # Before the first poll no model is known; the driver's spec comes with its first reading.
    for model, value in break_even.items():
        spec = next(m for m in MODELS if m.model == model)
        assert value == pytest.approx(30.0 * 0.024 * spec.efficiency_j_per_th)
    # No plan yet: no limit and no plan time rather than made-up values.
    assert not any(
        k[0] in {"hashpivot_site_limit_watts", "hashpivot_plan_duration_seconds"} for k in samples
    )


def test_forecast_for_now_and_hours_ahead(tmp_path: Path) -> None:
    config = load_config(ROOT / "deploy" / "examples" / "hashpivot-small.yaml")
    config = config.model_copy(
        update={"journal": config.journal.model_copy(update={"path": str(tmp_path / "j.sqlite")})}
    )
    controller = Controller(config)
    now = time.time()
    # Three hours of forecast: "24h" ahead is past its end and is left out, not guessed.
    controller.state.forecast = tuple(
        (now - 60 + 3600 * h, now - 60 + 3600 * (h + 1), 50.0 + h) for h in range(5)
    )
    controller.state.forecast_as_of = now - 30
    controller.state.forecast_source = "ercot-dam"
    text = generate_latest(controller.metrics.registry).decode()
    forecast = {
        s.labels["horizon"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "hashpivot_power_price_forecast_usd_per_mwh"
    }
    assert forecast == {"0h": 50.0, "1h": 51.0, "4h": 54.0}
    assert 'signal="price_forecast",site="small",source="ercot-dam"' in text

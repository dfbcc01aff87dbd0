"""The deploy/ files: Prometheus config and alert rules pass promtool, the rules'
unit tests pass, and every metric an alert reads is one the daemon exports."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest

from controller.app import Controller
from controller.config.settings import load_config
from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "deploy" / "prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args], check=False, capture_output=True, text=True, timeout=60
    )


def test_alert_rules_pass_promtool() -> None:
    done = _promtool("check", "rules", str(PROMETHEUS / "alerts.yml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_alert_rules_fire_when_they_should() -> None:
    done = _promtool("test", "rules", str(ROOT / "tests" / "prometheus" / "alerts_test.yml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_prometheus_config_passes_promtool_as_shipped() -> None:
    done = _promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 rule files found" in done.stdout + done.stderr


@pytest.fixture
async def exported(tmp_path: Path) -> set[str]:
    config = load_config(ROOT / "deploy" / "examples" / "hashpivot-small.yaml")
    config = config.model_copy(
        update={"journal": config.journal.model_copy(update={"path": str(tmp_path / "j.sqlite")})}
    )
    controller = Controller(config)
    text = generate_latest(controller.metrics.registry).decode()
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names.add(name)
            if kind == "counter":
                names.add(f"{name}_total")
            if kind == "histogram":
                names.update(f"{name}_{s}" for s in ("bucket", "sum", "count"))
    return names


def test_every_metric_an_alert_reads_is_exported(exported: set[str]) -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    read = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in re.findall(r"\bhashpivot_[a-z_]+", rule["expr"])
    }
    assert read
    assert read <= exported, f"alerts read metrics nobody exports: {sorted(read - exported)}"

"""Any edit of the example site file builds a simulated fleet or is a SimulatorError."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings

from simulators import Fleet, load_site_dict
from simulators.errors import SimulatorError
from tests.edits import edited

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "examples" / "site-small.yaml"
BASE: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())


def build(data: Any) -> None:
    """What ``hashpivot sim`` does with a site file before it binds any socket."""
    Fleet(load_site_dict(data), speed=60)


def test_the_example_builds() -> None:
    build(copy.deepcopy(BASE))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=edited(BASE))
def test_any_edit_builds_or_is_a_simulator_error(doc: dict[str, Any]) -> None:
    message = "built"
    try:
        build(doc)
    except SimulatorError as exc:
        message = str(exc)
    assert message.strip()

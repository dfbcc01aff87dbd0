"""Any edit of the example site file builds a simulated fleet or is a SimulatorError."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators import Fleet, load_site_dict
from simulators.errors import SimulatorError
from tests.edits import edit, paths_of, values

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "examples" / "site-small.yaml"
BASE: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
PATHS = paths_of(BASE)


def build(data: Any) -> None:
    """What ``hashpivot sim`` does with a site file before it binds any socket."""
    Fleet(load_site_dict(data), speed=60)


def test_the_example_builds() -> None:
    build(copy.deepcopy(BASE))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(PATHS), st.sampled_from(["set", "delete", "add"]), values),
        min_size=1,
        max_size=3,
    )
)
def test_any_edit_builds_or_is_a_simulator_error(
    edits: list[tuple[tuple[Any, ...], str, Any]],
) -> None:
    doc = copy.deepcopy(BASE)
    for path, how, value in edits:
        edit(doc, path, how, value)
    message = "built"
    try:
        build(doc)
    except SimulatorError as exc:
        message = str(exc)
    assert message.strip()

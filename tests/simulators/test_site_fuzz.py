"""Any edit of the example site file builds a simulated fleet or is a SimulatorError."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from simulators import Fleet, Site, load_site_dict
from simulators.errors import SimulatorError
from tests.edits import NEWLINE_KEY, assert_one_line, edited, with_newline_key

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "examples" / "site-small.yaml"
BASE: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())


def build(data: Any) -> tuple[Site, Fleet]:
    """What ``hashpivot sim`` does with a site file before it binds any socket."""
    site = load_site_dict(data)
    return site, Fleet(site, speed=60)


def _check(site: Site, fleet: Fleet) -> None:
    # Every address the site lists is served by exactly one device, and nothing else is.
    listed = [a for entry in site.devices if entry.make != "meter" for a in entry.addresses()]
    assert sorted(d.address for d in fleet.devices) == sorted(listed)
    assert len(fleet) == site.device_count
    assert len(fleet.meters) == sum(entry.make == "meter" for entry in site.devices)


def test_the_example_builds() -> None:
    site, fleet = build(copy.deepcopy(BASE))
    _check(site, fleet)
    assert len(fleet) > 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=edited(BASE))
def test_any_edit_builds_or_is_a_simulator_error(doc: dict[str, Any]) -> None:
    try:
        site, fleet = build(doc)
    except SimulatorError as exc:
        assert_one_line(exc)  # what `hashpivot sim` prints
    else:
        _check(site, fleet)


def test_a_key_with_a_newline_is_named_on_one_line() -> None:
    with pytest.raises(SimulatorError) as caught:
        build(with_newline_key(BASE))
    assert_one_line(caught.value, names=repr(NEWLINE_KEY)[1:-1])

"""Any edit of the example site file builds a simulated fleet or is a SimulatorError."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given

from simulators import Fleet, Site, load_site_dict
from simulators.errors import SimulatorError
from tests.edits import EDITS, assert_newline_key_named, built_or_refused, edited, example

BASE = example("site-small.yaml")


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


@EDITS
@given(doc=edited(BASE))
def test_any_edit_builds_or_is_a_simulator_error(doc: dict[str, Any]) -> None:
    built = built_or_refused(build, doc, SimulatorError)
    if built is not None:
        _check(*built)


def test_a_key_with_a_newline_is_named_on_one_line() -> None:
    assert_newline_key_named(build, BASE, SimulatorError)

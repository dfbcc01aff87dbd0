"""Site files: the example loads; every kind of mistake gives one message naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulators import SiteError, load_site, load_site_dict

EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "site-small.yaml"


def entry(**overrides: Any) -> dict[str, Any]:
    return {"make": "antminer", "model": "S21", "start": "127.77.20.1", **overrides}


def site_with(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"site": "t", "devices": list(entries)}


def test_the_example_site_loads() -> None:
    site = load_site(EXAMPLE)
    assert site.site == "small"
    models = {e.model for e in site.devices if e.make != "meter"}
    assert {"S19j Pro", "S19 XP", "S21", "S21 XP"} <= models
    assert {"M30S++", "M50S", "M60S", "M63S", "AT1500", "AT2880", "AH3880"} <= models
    ranges = {
        "antminer": "127.0.1.",
        "whatsminer": "127.0.2.",
        "auradine": "127.0.3.",
        "gpu": "127.0.4.",
        "meter": "127.0.100.",
    }
    addresses = [a for e in site.devices for a in e.addresses()]
    for e in site.devices:
        assert all(a.startswith(ranges[e.make]) for a in e.addresses())
    assert {e.api for e in site.devices if e.make == "whatsminer"} == {"v2", "v3"}
    assert len(addresses) == len(set(addresses))


def test_count_expands_to_consecutive_addresses() -> None:
    site = load_site_dict(site_with(entry(count=3, start="127.77.20.254")))
    assert site.devices[0].addresses() == ["127.77.20.254", "127.77.20.255", "127.77.21.0"]


def test_model_names_are_matched_loosely() -> None:
    site = load_site_dict(site_with(entry(model="s19j pro")))
    assert site.devices[0].model == "S19j Pro"


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (site_with(entry(make="avalon")), "devices[0]", "whatsminer"),
        (site_with(entry(model="S99")), "devices[0].model", "S99"),
        (site_with(entry(start="10.0.0.1")), "devices[0].start", "loopback"),
        (site_with(entry(start="127.0.0.300")), "devices[0].start", ""),
        (site_with(entry(count=0)), "devices[0].count", ""),
        (site_with(entry(quirks=["flaky"])), "devices[0].quirks", ""),
        (site_with(entry(faults=["gremlins"])), "devices[0].faults", "gremlins"),
        (site_with(entry(timings={"boot_s": -1})), "devices[0].timings", ""),
        (site_with(entry(colour="red")), "devices[0].colour", ""),
        (site_with(entry(), entry(start="127.77.20.1")), "devices", "127.77.20.1"),
        ({"devices": [entry()]}, "site", ""),
        ({"site": "t", "devices": []}, "devices", ""),
    ],
)
def test_mistakes_name_the_field(data: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(SiteError) as caught:
        load_site_dict(data)
    message = str(caught.value)
    assert field in message
    assert words in message
    assert "\n" not in message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("site: [unclosed\n")
    with pytest.raises(SiteError, match=r"bad\.yaml"):
        load_site(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="cannot read"):
        load_site(tmp_path / "nope.yaml")

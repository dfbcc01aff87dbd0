"""The make registry is the one list of makes: every consumer sees each registered make.

A make is a driver package (drivers/<make>/make.py) plus a simulator package
(simulators/<make>/make.py); docs/adding-a-make.md says how to add one. This walks
the registry and asks each consumer whether it knows the make.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import simulators
from controller.integrations.openapi import openapi_document
from controller.settings import CredentialsConfig
from drivers import Make, spec, specs
from drivers.discovery import classify_rpc_text
from drivers.makes import make_package_names
from drivers.pyasic_adapter.device import pyasic_makes
from drivers.types import Make as TypesMake

MAKES = list(Make)


def test_the_enum_has_one_member_per_make_package() -> None:
    assert [m.value for m in Make] == list(make_package_names())
    assert Make is TypesMake
    assert len(MAKES) >= 4


def test_the_static_members_mypy_sees_are_registered() -> None:
    # drivers/types.py declares a few members for mypy; each must be a real make.
    for name in ("ANTMINER", "WHATSMINER", "GPU"):
        assert Make[name] in MAKES


@pytest.mark.parametrize("make", MAKES, ids=str)
def test_each_make_registers_itself(make: Make) -> None:
    found = spec(make)
    assert found.make is make
    assert found in specs()
    assert found.title


@pytest.mark.parametrize("make", MAKES, ids=str)
def test_default_credentials_come_from_the_registry(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(f"HASHPIVOT_{make.value.upper()}_PASSWORD", raising=False)
    assert CredentialsConfig().resolve(make) == spec(make).default_credentials


@pytest.mark.parametrize("make", MAKES, ids=str)
def test_the_openapi_document_lists_the_make(make: Make) -> None:
    text = str(openapi_document())
    assert f"'{make.value}'" in text


@pytest.mark.parametrize("make", MAKES, ids=str)
def test_discovery_recognises_the_make_by_its_registered_fingerprint(make: Make) -> None:
    fingerprint = spec(make).fingerprint
    for marker in fingerprint.rpc_markers:
        reply = f'{{"STATUS":[{{"Msg":"{marker.lower()} versions"}}]}}'.encode()
        assert classify_rpc_text(reply) is make
    if spec(make).probe:
        assert fingerprint.rpc_markers or fingerprint.web_realm or fingerprint.v3_device_info


@pytest.mark.parametrize("make", MAKES, ids=str)
def test_the_pyasic_adapter_maps_the_makes_pyasic_name(make: Make) -> None:
    name = spec(make).pyasic_name
    if name is None:
        assert make not in pyasic_makes().values()
    else:
        assert pyasic_makes()[name] is make


def _simulator_make_packages() -> set[str]:
    root = Path(simulators.__file__).parent
    return {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}


def test_the_independence_contract_lists_every_make_package() -> None:
    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    contracts = pyproject["tool"]["importlinter"]["contracts"]
    (independence,) = [c for c in contracts if c["type"] == "independence"]
    expected = {f"drivers.{m.value}" for m in Make} | {
        f"simulators.{name}" for name in _simulator_make_packages()
    }
    assert set(independence["modules"]) == expected

"""The make registry is the one list of makes: every consumer sees each registered make.

A make is a driver package (drivers/<make>/make.py) plus a simulator package
(simulators/<make>/make.py); docs/adding-a-make.md says how to add one. This walks
the registry and asks each consumer whether it knows the make.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from controller.cli.probe import main as probe_main
from controller.config.settings import CredentialsConfig
from controller.integrations.openapi import openapi_document
from drivers import DeviceEndpoint, DriverSettings, Make, open_driver, spec, specs
from drivers.discovery import classify_rpc_text
from drivers.makes import make_package_names
from drivers.pyasic_adapter.device import pyasic_makes
from drivers.types import Make as TypesMake
from simulators import load_site_dict
from simulators.cli import main as sim_main
from simulators.registry import SimMakeSpec, sim_spec, sim_specs
from tests.contract.registry import CASES, unsupported_reason

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


@pytest.mark.parametrize("make", MAKES, ids=str)
def test_each_driver_make_has_a_simulator_make(make: Make) -> None:
    assert sim_spec(make.value).make == make.value


@pytest.mark.parametrize("make", MAKES, ids=str)
def test_the_contract_suite_runs_each_make_pyasic_knows(make: Make) -> None:
    cases = [case for case in CASES if case.make == make.value]
    if spec(make).pyasic_name is None:
        assert not cases
    else:
        models = sim_spec(make.value).models
        assert {case.model for case in cases} == set(models)
        assert all(unsupported_reason(case) is None for case in cases)


@pytest.mark.parametrize("sim", sim_specs(), ids=lambda s: s.make)
def test_the_site_loader_accepts_each_simulator_make(sim: SimMakeSpec[Any]) -> None:
    address = "127.0.130.1"
    entry: dict[str, Any] = {"make": sim.make, "model": sim.models[0]} if sim.models else {}
    entry = (
        {"make": sim.make, "address": address} if sim.build is None else {**entry, "start": address}
    )
    site = load_site_dict({"site": "one", "devices": [entry]})
    assert isinstance(site.devices[0], sim.entry)


def test_the_independence_contract_lists_every_make_package() -> None:
    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    contracts = pyproject["tool"]["importlinter"]["contracts"]
    (independence,) = [c for c in contracts if c["type"] == "independence"]
    expected = {f"drivers.{m.value}" for m in Make} | {f"simulators.{s.make}" for s in sim_specs()}
    assert set(independence["modules"]) == expected


@pytest.mark.parametrize("make", MAKES, ids=str)
def test_open_driver_builds_the_registered_native_driver(make: Make) -> None:
    driver = open_driver(make, DeviceEndpoint("127.0.130.1"), settings=DriverSettings())
    assert driver.make is make
    assert type(driver).__name__ == spec(make).driver.partition(":")[2]


@pytest.mark.parametrize("make", MAKES, ids=str)
def test_the_backtest_replays_each_miner_make(make: Make) -> None:
    sim = sim_spec(make.value)
    if spec(make).pyasic_name is None:  # not a miner: the backtest models GPU nodes itself
        return
    assert sim.replay is not None
    entry = load_site_dict(
        {
            "site": "one",
            "devices": [{"make": make.value, "model": sim.models[0], "start": "127.0.130.1"}],
        }
    ).devices[0]
    replay = sim.replay(entry)
    assert replay.physics.nameplate_hs > 0


def test_hashpivot_probe_offers_each_make_that_registers_for_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        probe_main(["--help"])
    offered = [s.make.value for s in specs() if s.probe]
    assert offered  # the GPU node registers probe=False; the miners do not
    assert "{" + ",".join(offered) + "}" in capsys.readouterr().out


def test_hashpivot_sim_help_describes_each_simulator_make(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert sim_main(["--help"]) == 0
    out = capsys.readouterr().out
    for sim in sim_specs():
        assert f"  {sim.make} " in out
        assert sim.serves.split()[0] in out

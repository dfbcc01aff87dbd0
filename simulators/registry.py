"""The simulators' make registry: each simulator make package registers itself here.

A simulator make package ``simulators/<make>/`` has a ``make.py`` whose ``SPEC`` is a
:class:`SimMakeSpec`: its site-file entry class, how the fleet builds its devices,
and the cases the pyasic contract suite runs against it. The site loader, the fleet
and the contract suite (tests/contract/registry.py) read the makes from here. The
simulators keep their own registry: they must never import the drivers.
See docs/adding-a-make.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from simulators.clock import SimClock
from simulators.device import SimDevice
from simulators.entry import SiteEntry
from simulators.physics import PhysicsSpec, Timings
from simulators.ports import PortMap

__all__ = [
    "REGISTRATION_MODULE",
    "ContractVariant",
    "Replay",
    "SimMakeSpec",
    "sim_spec",
    "sim_specs",
]

REGISTRATION_MODULE = "make"  # simulators/<make>/make.py holds the make's SPEC

E = TypeVar("E", bound=SiteEntry)


@dataclass(frozen=True, kw_only=True, slots=True)
class ContractVariant:
    """One firmware generation the pyasic contract suite runs for every model of a make."""

    firmware: str  # a label for the test id: "stock", "api-v2"
    entry: Mapping[str, Any] = field(default_factory=dict)  # extra site-entry keys
    partial_faults: tuple[str, ...] = ()  # faults that take one interface down, not all
    credentials: tuple[str, str] | None = None  # (user, password); None: the make's default


@dataclass(frozen=True, kw_only=True, slots=True)
class Replay:
    """How the backtest replays a miner entry: the simulator's own physics, no server."""

    physics: PhysicsSpec
    timings: Timings
    initial_cap_w: float | None = None  # a power target or limit the site file sets
    restart_on_target: bool = False  # a new power target restarts mining
    target_range_w: tuple[float, float] | None = None  # None: the model table's range
    writes: bool = True  # False: the firmware's API refuses writes, as shipped


@dataclass(frozen=True, kw_only=True, slots=True)
class SimMakeSpec(Generic[E]):
    """One simulated make, as its package registers it."""

    make: str  # the site file's `make:` value; also the package name
    serves: str  # for `hashpivot sim --help`: its ports, logins and site-file options
    entry: type[E]  # its site-file entry class, with make: Literal["<make>"]
    # Builds the devices of one entry; None: not served as devices (the meter reads them).
    build: Callable[[E, SimClock, PortMap, int], list[SimDevice]] | None
    models: tuple[str, ...] = ()  # every model the make serves
    contract: tuple[ContractVariant, ...] = ()  # empty: outside the pyasic contract suite
    replay: Callable[[E], Replay] | None = None  # miners: what the backtest replays


def _package_names() -> tuple[str, ...]:
    root = Path(__file__).parent
    return tuple(
        sorted(
            entry.name
            for entry in root.iterdir()
            if entry.is_dir() and (entry / f"{REGISTRATION_MODULE}.py").is_file()
        )
    )


@cache
def sim_specs() -> tuple[SimMakeSpec[Any], ...]:
    """Every registered simulator make, sorted by name (imports each make package)."""
    found: list[SimMakeSpec[Any]] = []
    for name in _package_names():
        module_name = f"simulators.{name}.{REGISTRATION_MODULE}"
        spec = getattr(importlib.import_module(module_name), "SPEC", None)
        if not isinstance(spec, SimMakeSpec) or spec.make != name:
            raise TypeError(f"{module_name} must set SPEC = SimMakeSpec(make={name!r}, ...)")
        found.append(spec)
    return tuple(found)


def sim_spec(make: str) -> SimMakeSpec[Any]:
    """The registration of ``make``; KeyError when no package registers it."""
    for spec in sim_specs():
        if spec.make == make:
            return spec
    raise KeyError(make)

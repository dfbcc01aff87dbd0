"""Every (make, model, firmware) the simulators serve, as one table.

A row is a site entry for the simulator plus what the contract may expect of
it. The rows come from the simulators' make registry: a make that registers
contract variants (simulators/<make>/make.py) gets the whole suite; a row the
simulators cannot serve is collected and skipped, naming the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulators import SiteError, load_site_dict
from simulators.registry import sim_specs

__all__ = ["CASES", "FAULT_CASES", "Case", "unsupported_reason"]


@dataclass(frozen=True, slots=True)
class Case:
    make: str
    model: str
    firmware: str  # a label: the simulated firmware generation
    entry: dict[str, Any] = field(default_factory=dict)  # extra site-entry keys
    faults: tuple[str, ...] = ("refuse", "stall", "slow=3", "malformed", "truncated")
    # Faults that take one interface down; reads may go on through the other one.
    partial_faults: tuple[str, ...] = ()
    credentials: tuple[str, str] | None = None  # (user, password); None: the make's default

    @property
    def id(self) -> str:
        return f"{self.make}-{self.model.replace(' ', '')}-{self.firmware}"

    def site_entry(self, address: str) -> dict[str, Any]:
        return {
            "make": self.make,
            "model": self.model,
            "start": address,
            "timings": "instant",
            **self.entry,
        }


# Every model of every firmware variant that a simulator make registers for the
# suite (simulators/<make>/make.py): a new make's rows come from its registration.
CASES: tuple[Case, ...] = tuple(
    Case(
        spec.make,
        model,
        variant.firmware,
        dict(variant.entry),
        partial_faults=variant.partial_faults,
        credentials=variant.credentials,
    )
    for spec in sim_specs()
    for variant in spec.contract
    for model in spec.models
)

# The fault matrix runs on one model per (make, firmware): faults live in the
# transport, which does not vary by model.
FAULT_CASES: tuple[Case, ...] = tuple({(c.make, c.firmware): c for c in reversed(CASES)}.values())

_checked: dict[str, str | None] = {}


def unsupported_reason(case: Case) -> str | None:
    """Why the simulators cannot serve ``case`` yet (None when they can)."""
    if case.id not in _checked:
        site = {"site": "probe", "devices": [case.site_entry("127.0.99.254")]}
        try:
            load_site_dict(site)
            _checked[case.id] = None
        except SiteError as exc:
            _checked[case.id] = f"simulators do not serve {case.id} yet: {exc}"
    return _checked[case.id]

"""One exception tree for the policy engine.

Bad inputs raise a typed subclass of :class:`PolicyError` at construction time,
so a plan is never computed from something the engine cannot reason about.
"""

from __future__ import annotations

__all__ = [
    "InvalidEconomics",
    "InvalidFleet",
    "InvalidGrid",
    "InvalidInput",
    "InvalidMemory",
    "InvalidSettings",
    "PolicyError",
]


class PolicyError(Exception):
    """Root of every error raised by :mod:`controller.policy`."""

    code = "policy_error"


class InvalidInput(PolicyError, ValueError):
    """An input is inconsistent or out of range."""

    code = "invalid_input"


class InvalidFleet(InvalidInput):
    """A device or the fleet as a whole is malformed (duplicate ids, bad ranges)."""

    code = "invalid_fleet"


class InvalidEconomics(InvalidInput):
    """A price, hashprice or AI value is missing, negative or not finite."""

    code = "invalid_economics"


class InvalidGrid(InvalidInput):
    """A cap, event or ramp limit is malformed."""

    code = "invalid_grid"


class InvalidSettings(InvalidInput):
    """A policy setting is out of range."""

    code = "invalid_settings"


class InvalidMemory(InvalidInput):
    """Persisted policy memory could not be decoded."""

    code = "invalid_memory"

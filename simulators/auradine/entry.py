"""The ``make: auradine`` entry of a site file."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import PositiveFloat, PositiveInt

from simulators.auradine.models import lookup_auradine_model
from simulators.entry import MinerEntryBase, known_model

__all__ = ["AuradineEntry"]


class AuradineEntry(MinerEntryBase):
    make: Literal["auradine"]
    model: Annotated[str, known_model(lookup_auradine_model)]
    username: str = "admin"
    password: str = "admin"  # noqa: S105 - the stock default, which clients assume
    token_ttl_s: PositiveFloat = 3600.0  # real seconds a REST token stays valid
    mode: Literal["normal", "eco", "turbo", "sleep"] = "normal"
    power_target_w: PositiveInt | None = None  # custom mode with this power target

"""The ``make: gpu`` entry of a site file (simulators/gpu/site_entry.py says what it means)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, NonNegativeFloat, PositiveInt

from simulators.entry import EntryBase
from simulators.gpu.site_entry import valid_gpu_model

__all__ = ["GpuEntry"]


class GpuEntry(EntryBase):
    """An 8-GPU node: the node agent's API on 9862 and dcgm-exporter metrics on 9400."""

    make: Literal["gpu"]
    model: Annotated[str, AfterValidator(valid_gpu_model)]
    gpus: PositiveInt = 8
    load: float = Field(default=0.95, ge=0.0, le=1.0)
    token: str = "hashpivot-sim"  # noqa: S105 - the simulated agents' well-known token
    settle_s: NonNegativeFloat = 1.0
    dcgm_power_limit: bool = False

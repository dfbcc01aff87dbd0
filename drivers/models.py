"""Hardware models as data: one row per model, no class per model.

Nameplate figures are the manufacturers' (see docs/protocols.md §6); where a figure is
an estimate the row says so. Controls say what the *stock* firmware lets us do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from drivers.types import Control, Make

__all__ = [
    "MODELS",
    "ModelSpec",
    "UnknownModel",
    "lookup_model",
    "normalise_model_name",
    "stock_controls",
]

_MINER_BASE = frozenset({Control.SLEEP, Control.WAKE, Control.REBOOT, Control.POWER_MODE})
_MINER_WITH_TARGET = _MINER_BASE | {Control.POWER_TARGET}
_GPU_NODE = frozenset({Control.GPU_POWER_LIMIT, Control.DRAIN, Control.REBOOT})


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    make: Make
    model: str
    nameplate_ths: float
    nameplate_w: float
    cooling: str  # "air" | "hydro" | "immersion"
    boards: int
    chips_per_board: int
    fans: int
    controls: frozenset[Control]
    wake_to_hash_s: float  # typical time from wake to first share
    wake_to_nameplate_s: float  # typical time from wake to settled hashrate
    sleep_w: float  # residual draw while asleep (control board, idle fans)
    power_target_min_w: float | None = None
    power_target_max_w: float | None = None
    estimated: bool = False  # True where a nameplate figure is an estimate

    @property
    def efficiency_j_per_th(self) -> float:
        return self.nameplate_w / self.nameplate_ths if self.nameplate_ths else float("inf")

    @property
    def nameplate_hs(self) -> float:
        return self.nameplate_ths * 1e12


@dataclass(frozen=True, slots=True, kw_only=True)
class _MakeTraits:
    """What every model of one make shares with stock firmware."""

    controls: frozenset[Control]
    wake_to_hash_s: float
    wake_to_nameplate_s: float
    sleep_w: float
    target_floor_share: float | None  # lowest power target, as a share of nameplate


# Rows name makes by value: the table is data, and Make has a member per make package.
_A, _W, _R = Make("antminer"), Make("whatsminer"), Make("auradine")

# One row per make: the make, its controls, wake to first share (s), wake to settled
# hashrate (s), draw asleep (W), and the lowest power target as a share of nameplate.
_TRAITS = {
    make: _MakeTraits(
        controls=controls,
        wake_to_hash_s=to_hash_s,
        wake_to_nameplate_s=to_nameplate_s,
        sleep_w=sleep_w,
        target_floor_share=floor_share,
    )
    for make, controls, to_hash_s, to_nameplate_s, sleep_w, floor_share in (
        (_A, _MINER_BASE, 120, 600, 25, None),
        (_W, _MINER_WITH_TARGET, 90, 600, 20, 0.4),
        (_R, _MINER_WITH_TARGET, 60, 300, 60, 0.3),
    )
}


def stock_controls(make: Make) -> frozenset[Control]:
    """What the make's stock firmware lets us do, on a model the table does not list."""
    traits = _TRAITS.get(make)
    return traits.controls if traits is not None else frozenset()


def _miner(
    make: Make,
    model: str,
    ths: float,
    watts: float,
    boards: int,
    chips: int,
    fans: int,
    cooling: str = "air",
    *,
    estimated: bool = False,
) -> ModelSpec:
    traits = _TRAITS[make]
    share = traits.target_floor_share
    return ModelSpec(
        make=make,
        model=model,
        nameplate_ths=ths,
        nameplate_w=watts,
        cooling=cooling,
        boards=boards,
        chips_per_board=chips,
        fans=fans,
        controls=traits.controls,
        wake_to_hash_s=traits.wake_to_hash_s,
        wake_to_nameplate_s=traits.wake_to_nameplate_s,
        sleep_w=traits.sleep_w,
        power_target_min_w=round(watts * share) if share is not None else None,
        power_target_max_w=watts if share is not None else None,
        estimated=estimated,
    )


def _gpu_node(model: str) -> ModelSpec:
    """An 8-GPU HGX node: 10.2 kW maximum input, GPU limits 200-700 W each."""
    return ModelSpec(
        make=Make.GPU,
        model=model,
        nameplate_ths=0,
        nameplate_w=10200,
        cooling="air",
        boards=0,
        chips_per_board=0,
        fans=0,
        controls=_GPU_NODE,
        wake_to_hash_s=420,
        wake_to_nameplate_s=600,
        sleep_w=2000,
        power_target_min_w=8 * 200,
        power_target_max_w=8 * 700,
    )


MODELS: tuple[ModelSpec, ...] = (
    _miner(_A, "S19j Pro", 100, 2950, 3, 126, 4, estimated=True),
    _miner(_A, "S19 Pro", 110, 3250, 3, 114, 4, estimated=True),
    _miner(_A, "S19 XP", 140, 3010, 3, 110, 4, estimated=True),
    _miner(_A, "S21", 200, 3500, 3, 108, 4),
    _miner(_A, "S21 XP", 270, 3645, 3, 91, 4),
    _miner(_A, "S21 Hydro", 335, 5360, 3, 216, 0, "hydro", estimated=True),
    _miner(_A, "S21+ Hydro", 319, 4785, 3, 95, 0, "hydro"),
    _miner(_W, "M30S++", 112, 3472, 3, 111, 2, estimated=True),
    _miner(_W, "M50S", 126, 3276, 3, 156, 2, estimated=True),
    _miner(_W, "M60S", 186, 3441, 3, 245, 2),
    _miner(_W, "M63S", 390, 7215, 4, 370, 0, "hydro", estimated=True),
    _miner(_R, "AT1500", 210, 3360, 3, 132, 4, estimated=True),
    _miner(_R, "AT2880", 270, 5000, 3, 132, 4, estimated=True),
    _miner(_R, "AH3880", 600, 8700, 3, 132, 0, "hydro", estimated=True),
    _gpu_node("HGX H100 8-GPU"),
    _gpu_node("HGX H200 8-GPU"),
)


class UnknownModel(KeyError):
    """No row in the model table matches."""


_VENDOR_PREFIX = re.compile(r"^(antminer|bitmain|whatsminer|microbt|auradine|teraflux)\s+", re.I)


def normalise_model_name(raw: str) -> str:
    """Reduce a reported model string to the table's key.

    ``"Antminer S19j Pro (xp)"`` -> ``"S19J PRO"``; ``"M60S.VK30"``/``"M60S_VK30"`` -> ``"M60S"``.
    """
    name = raw.strip()
    name = name.split(" (", 1)[0]
    name = _VENDOR_PREFIX.sub("", name)
    # Whatsminer reports the chip variant after a dot or underscore: M60S.VK30, M60S_VK30.
    name = re.split(r"[._]V[A-Z]\d", name, maxsplit=1, flags=re.I)[0]
    return " ".join(name.upper().split())


_INDEX: dict[tuple[Make, str], ModelSpec] = {
    (spec.make, normalise_model_name(spec.model)): spec for spec in MODELS
}


def lookup_model(make: Make, raw_model: str) -> ModelSpec:
    try:
        return _INDEX[(make, normalise_model_name(raw_model))]
    except KeyError:
        raise UnknownModel(f"{make.value} {raw_model!r} is not in the model table") from None


def models_of(make: Make) -> Iterable[ModelSpec]:
    return (spec for spec in MODELS if spec.make is make)

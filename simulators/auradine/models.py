"""The simulator's own Auradine Teraflux model table (docs/protocols.md §3, §6).

Figures are marked [E] in the reference where no public page confirms them. pyasic
has classes for AT1500 and AT2880 but none for AH3880 (it reports AuradineUnknown).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.model_index import ModelIndex
from simulators.physics import PhysicsSpec, Timings

__all__ = [
    "AURADINE_MODELS",
    "AURADINE_TIMINGS",
    "AuradineModel",
    "auradine_physics",
    "lookup_auradine_model",
]

AURADINE_TIMINGS = Timings(stop_s=30.0, boot_s=60.0)
MAX_FAN_RPM = 7700
_STANDBY_FAN = 0.20  # FluxOS keeps the fans at 20% in standby


@dataclass(frozen=True, slots=True, kw_only=True)
class AuradineModel:
    name: str  # "AT1500": also what devdetails and ipreport report
    nameplate_ths: float  # the "normal" preset
    nameplate_w: float
    boards: int
    chips_per_board: int
    fans: int  # 0: hydro
    eco: tuple[float, float]  # (hashrate, power) as fractions of normal
    turbo: tuple[float, float]
    internal_type: str

    @property
    def nameplate_hs(self) -> float:
        return self.nameplate_ths * 1e12


AURADINE_MODELS: tuple[AuradineModel, ...] = (
    AuradineModel(name="AT1500", nameplate_ths=210.0, nameplate_w=3360.0, boards=3,
                  chips_per_board=132, fans=4, eco=(0.75, 0.7), turbo=(1.1, 1.18),
                  internal_type="T0"),
    AuradineModel(name="AT2880", nameplate_ths=270.0, nameplate_w=5000.0, boards=3,
                  chips_per_board=132, fans=4, eco=(0.75, 0.7), turbo=(1.1, 1.18),
                  internal_type="T1"),
    AuradineModel(name="AH3880", nameplate_ths=500.0, nameplate_w=7250.0, boards=3,
                  chips_per_board=132, fans=0, eco=(0.6, 0.6), turbo=(1.2, 1.2),
                  internal_type="H0"),
)  # fmt: skip


def _key(name: str) -> str:
    return name.lower().replace("auradine", "").replace("teraflux", "").replace(" ", "")


_INDEX = ModelIndex("Auradine", AURADINE_MODELS, _key, (lambda m: m.name,))


def lookup_auradine_model(name: str) -> AuradineModel:
    """Find a model by name ("AT1500", "Auradine AT1500"); KeyError if unknown."""
    return _INDEX.find(name)


def auradine_physics(spec: AuradineModel) -> PhysicsSpec:
    """The physical model of one unit of ``spec`` (the device and the backtest share it)."""
    return PhysicsSpec(
        nameplate_hs=spec.nameplate_hs,
        nameplate_w=spec.nameplate_w,
        boards=spec.boards,
        fans=spec.fans,
        sleep_w=55.0,  # standby: control board plus fans at 20%
        low_power_hash=spec.eco[0],
        low_power_power=spec.eco[1],
        high_power_hash=spec.turbo[0],
        high_power_power=spec.turbo[1],
        max_fan_rpm=MAX_FAN_RPM,
        idle_fan_rpm=int(MAX_FAN_RPM * _STANDBY_FAN),
    )

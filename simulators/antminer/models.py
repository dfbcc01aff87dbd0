"""The simulator's own Antminer model table (docs/protocols.md §6, pyasic's board tables).

Kept separate from ``drivers.models`` on purpose: the simulators are an independent
reading of the devices, so a wrong figure on one side shows up as a test failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.model_index import ModelIndex
from simulators.physics import PhysicsSpec, Timings

__all__ = [
    "ANTMINER_MODELS",
    "ANTMINER_TIMINGS",
    "AntminerModel",
    "antminer_physics",
    "lookup_antminer_model",
]

ANTMINER_TIMINGS = Timings()  # docs/protocols.md §4 stock Antminer phases


@dataclass(frozen=True, slots=True, kw_only=True)
class AntminerModel:
    name: str  # as operators write it: "S19j Pro"
    type_string: str  # what the firmware reports in `Type` / `minertype`
    nameplate_ths: float
    nameplate_w: float
    boards: int
    chips_per_board: int
    fans: int
    frequency_mhz: int
    firmware: str  # `Miner` / miner_version
    compile_time: str
    fs_version: str  # system_filesystem_version

    @property
    def nameplate_hs(self) -> float:
        return self.nameplate_ths * 1e12


ANTMINER_MODELS: tuple[AntminerModel, ...] = (
    AntminerModel(name="S19j Pro", type_string="Antminer S19j Pro", nameplate_ths=100.0,
                  nameplate_w=3050.0, boards=3, chips_per_board=126, fans=4, frequency_mhz=525,
                  firmware="49.0.1.3", compile_time="Tue Dec  6 16:12:30 CST 2022",
                  fs_version="FR-1.7(221206-S19jPro)"),
    AntminerModel(name="S19 XP", type_string="Antminer S19 XP", nameplate_ths=140.0,
                  nameplate_w=3010.0, boards=3, chips_per_board=110, fans=4, frequency_mhz=500,
                  firmware="49.0.1.3", compile_time="Wed Mar 15 10:21:40 CST 2023",
                  fs_version="FR-1.8(230315-S19XP)"),
    AntminerModel(name="S21", type_string="Antminer S21", nameplate_ths=200.0, nameplate_w=3500.0,
                  boards=3, chips_per_board=108, fans=4, frequency_mhz=490, firmware="1.0.1.3",
                  compile_time="Thu Jan 11 16:05:22 CST 2024", fs_version="FR-1.12(251009-S21)"),
    AntminerModel(name="S21 XP", type_string="Antminer S21 XP", nameplate_ths=270.0,
                  nameplate_w=3645.0, boards=3, chips_per_board=91, fans=4, frequency_mhz=480,
                  firmware="1.0.2.1", compile_time="Mon Sep  9 11:30:02 CST 2024",
                  fs_version="FR-1.3(240909-S21XP)"),
    AntminerModel(name="S21 Hydro", type_string="Antminer S21 Hyd.", nameplate_ths=335.0,
                  nameplate_w=5360.0, boards=3, chips_per_board=216, fans=0, frequency_mhz=475,
                  firmware="1.0.1.5", compile_time="Tue Apr 30 14:12:09 CST 2024",
                  fs_version="FR-1.2(240430-S21Hyd)"),
)  # fmt: skip


def _key(name: str) -> str:
    name = name.lower().removeprefix("antminer").replace(" ", "").replace("_", "")
    return name.removesuffix(".").replace("hyd.", "hydro").replace("hydro", "hyd")


_INDEX = ModelIndex("Antminer", ANTMINER_MODELS, _key, (lambda m: m.name, lambda m: m.type_string))


def lookup_antminer_model(name: str) -> AntminerModel:
    """Find a model by name ("S21 XP", "s21xp", "Antminer S21 XP"); KeyError if unknown."""
    return _INDEX.find(name)


def antminer_physics(spec: AntminerModel) -> PhysicsSpec:
    """The physical model of one unit of ``spec`` (the device and the backtest share it)."""
    return PhysicsSpec(
        nameplate_hs=spec.nameplate_hs,
        nameplate_w=spec.nameplate_w,
        boards=spec.boards,
        fans=spec.fans,
    )

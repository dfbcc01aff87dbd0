"""The simulator's own Antminer model table (docs/protocols.md §6, pyasic's board tables).

Kept separate from ``drivers.models`` on purpose: the simulators are an independent
reading of the devices, so a wrong figure on one side shows up as a test failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.physics import PhysicsSpec, Timings

__all__ = [
    "ANTMINER_MODELS",
    "ANTMINER_TIMINGS",
    "AntminerModel",
    "antminer_physics",
    "lookup_antminer_model",
]

ANTMINER_TIMINGS = Timings()  # docs/protocols.md §4 stock Antminer phases


@dataclass(frozen=True, slots=True)
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
    AntminerModel(
        "S19j Pro", "Antminer S19j Pro", 100.0, 3050.0, 3, 126, 4, 525,
        "49.0.1.3", "Tue Dec  6 16:12:30 CST 2022", "FR-1.7(221206-S19jPro)",
    ),
    AntminerModel(
        "S19 XP", "Antminer S19 XP", 140.0, 3010.0, 3, 110, 4, 500,
        "49.0.1.3", "Wed Mar 15 10:21:40 CST 2023", "FR-1.8(230315-S19XP)",
    ),
    AntminerModel(
        "S21", "Antminer S21", 200.0, 3500.0, 3, 108, 4, 490,
        "1.0.1.3", "Thu Jan 11 16:05:22 CST 2024", "FR-1.12(251009-S21)",
    ),
    AntminerModel(
        "S21 XP", "Antminer S21 XP", 270.0, 3645.0, 3, 91, 4, 480,
        "1.0.2.1", "Mon Sep  9 11:30:02 CST 2024", "FR-1.3(240909-S21XP)",
    ),
    AntminerModel(
        "S21 Hydro", "Antminer S21 Hyd.", 335.0, 5360.0, 3, 216, 0, 475,
        "1.0.1.5", "Tue Apr 30 14:12:09 CST 2024", "FR-1.2(240430-S21Hyd)",
    ),
)  # fmt: skip


def _key(name: str) -> str:
    name = name.lower().removeprefix("antminer").replace(" ", "").replace("_", "")
    return name.removesuffix(".").replace("hyd.", "hydro").replace("hydro", "hyd")


_BY_KEY = {_key(m.name): m for m in ANTMINER_MODELS} | {
    _key(m.type_string): m for m in ANTMINER_MODELS
}


def lookup_antminer_model(name: str) -> AntminerModel:
    """Find a model by name ("S21 XP", "s21xp", "Antminer S21 XP"); KeyError if unknown."""
    try:
        return _BY_KEY[_key(name)]
    except KeyError:
        known = ", ".join(m.name for m in ANTMINER_MODELS)
        raise KeyError(f"unknown Antminer model {name!r} (known: {known})") from None


def antminer_physics(spec: AntminerModel) -> PhysicsSpec:
    """The physical model of one unit of ``spec`` (the device and the backtest share it)."""
    return PhysicsSpec(spec.nameplate_hs, spec.nameplate_w, spec.boards, spec.fans)

"""Simulated stock-firmware Bitmain Antminers (S19j Pro, S19 XP, S21, S21 XP, S21 Hydro)."""

from simulators.antminer.device import AntminerDevice, AntminerOptions
from simulators.antminer.models import ANTMINER_MODELS, AntminerModel, lookup_antminer_model
from simulators.antminer.state import AntminerQuirk, MinerConf

__all__ = [
    "ANTMINER_MODELS",
    "AntminerDevice",
    "AntminerModel",
    "AntminerOptions",
    "AntminerQuirk",
    "MinerConf",
    "lookup_antminer_model",
]

"""Simulated Auradine Teraflux miners (AT1500, AT2880, AH3880): GCMiner RPC + FluxOS REST."""

from simulators.auradine.device import FIRMWARE, AuradineDevice, AuradineOptions
from simulators.auradine.models import AURADINE_MODELS, AuradineModel, lookup_auradine_model
from simulators.auradine.state import AuradineMode, LedCode

__all__ = [
    "AURADINE_MODELS",
    "FIRMWARE",
    "AuradineDevice",
    "AuradineMode",
    "AuradineModel",
    "AuradineOptions",
    "LedCode",
    "lookup_auradine_model",
]

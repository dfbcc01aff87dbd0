"""Auradine Teraflux (FluxOS): GCMiner RPC on 4028 and REST on 8080."""

from drivers.auradine.device import AuradineDriver

__all__ = ["AuradineDriver"]

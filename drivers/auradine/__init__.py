"""Auradine Teraflux (FluxOS): GCMiner RPC on 4028 and REST on 8080.

Reach it through :func:`drivers.open_driver`; ``make`` registers it (docs/adding-a-make.md).
"""

"""The Auradine make registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

from drivers.registry import Fingerprint, MakeSpec
from drivers.types import Make

__all__ = ["SPEC"]

# Factory login admin/admin: the registry's default.
SPEC = MakeSpec(
    make=Make("auradine"),
    title="Auradine Teraflux (FluxOS)",
    driver="drivers.auradine.device:AuradineDriver",
    fingerprint=Fingerprint(rpc_markers=("GCMINER", "FLUXOS")),
    pyasic_name="auradine",
)

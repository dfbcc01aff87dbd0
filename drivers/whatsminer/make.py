"""The Whatsminer make registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

from drivers.registry import Fingerprint, MakeSpec
from drivers.types import Make

__all__ = ["SPEC"]

# Factory login admin/admin (the registry's default); API v3 units map it to "super".
SPEC = MakeSpec(
    make=Make("whatsminer"),
    title="MicroBT Whatsminer (btminer, API v2 and v3)",
    driver="drivers.whatsminer.device:WhatsminerDriver",
    fingerprint=Fingerprint(rpc_markers=("BTMINER", "BITMICRO"), v3_device_info=True),
    pyasic_name="whatsminer",
)

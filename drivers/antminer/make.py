"""The Antminer make registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

from drivers.registry import Fingerprint, MakeSpec
from drivers.settings import Credentials
from drivers.types import Make

__all__ = ["SPEC"]

SPEC = MakeSpec(
    make=Make("antminer"),
    title="Bitmain Antminer (stock firmware)",
    driver="drivers.antminer.device:AntminerDriver",
    default_credentials=Credentials("root", "root"),
    # The web server's digest realm is "antMiner Configuration".
    fingerprint=Fingerprint(rpc_markers=("ANTMINER", "BMMINER"), web_realm="antminer"),
    pyasic_name="antminer",
)

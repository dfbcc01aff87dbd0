"""The GPU node make registers itself (docs/adding-a-make.md).

The node agent's bearer token travels as the credential's password.
"""

from __future__ import annotations

from drivers.registry import MakeSpec
from drivers.types import Make

__all__ = ["SPEC"]

# A node agent is reached by its configured port and token; `hashpivot probe` does not detect it.
SPEC = MakeSpec(
    make=Make("gpu"),
    title="NVIDIA GPU node",
    driver="drivers.gpu.device:GpuNodeDriver",
    probe=False,
)

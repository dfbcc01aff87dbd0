"""Dumps of a node's raw NVML answers, and a read-only backend that replays one.

``hashpivot gpu-agent --dump-node FILE`` writes a dump on a real GPU node; tests replay
every ``tests/fixtures/gpu/nvml_<model>_<driver>.json`` through the same conversion
code the agent runs. A dump only reads: it never changes a limit, clock or mode.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from drivers.errors import ProtocolError, UnsupportedError
from drivers.gpu.errors import UnknownGpu
from drivers.gpu_agent.nvml import RAW_FORMAT, NvmlBackend, RawGpu

__all__ = ["RecordedNvml", "dump_node"]


def dump_node(backend: NvmlBackend, *, note: str = "") -> dict[str, Any]:
    """Read every GPU once and return the raw answers as a fixture document."""
    nvml_version = getattr(backend, "nvml_version", None)
    return {
        "format": RAW_FORMAT,
        "real": backend.kind == "nvml",
        "note": note,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "hostname": backend.host,
        "backend": backend.kind,
        "driver_version": backend.driver_version(),
        "nvml_version": nvml_version() if callable(nvml_version) else None,
        "gpus": [backend.read_raw(i) for i in range(backend.gpu_count())],
    }


class RecordedNvml:
    """Replays one dump; writes raise :class:`UnsupportedError` (a recording is read-only)."""

    kind = "recorded"

    def __init__(self, document: dict[str, Any], *, source: str = "dump") -> None:
        if document.get("format") != RAW_FORMAT or not isinstance(document.get("gpus"), list):
            raise ProtocolError(source, f"not a {RAW_FORMAT} document")
        self.host = str(document.get("hostname") or source)
        self.document = document
        self._gpus: list[RawGpu] = document["gpus"]

    @classmethod
    def load(cls, path: Path) -> RecordedNvml:
        return cls(json.loads(path.read_text()), source=path.name)

    def driver_version(self) -> str | None:
        value = self.document.get("driver_version")
        return None if value is None else str(value)

    def gpu_count(self) -> int:
        return len(self._gpus)

    def read_raw(self, index: int) -> RawGpu:
        if not 0 <= index < len(self._gpus):
            raise UnknownGpu(self.host, index, len(self._gpus))
        return dict(self._gpus[index])

    def set_power_limit_mw(self, index: int, milliwatts: int) -> None:
        raise UnsupportedError(self.host, "a recorded node is read-only")

    def poll_xids(self, timeout_s: float) -> list[tuple[int, int]]:
        return []

    def close(self) -> None:
        return None

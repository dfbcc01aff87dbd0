"""Simulated 8-GPU H100/H200 nodes: the hashpivot agent API (9862) and dcgm-exporter (9400).

State (:mod:`.state`, plain data and a power model), services (:mod:`.agent_api`,
:mod:`.dcgm`), the device (:mod:`.device`, with scenario verbs) and a standalone
runner (:mod:`.serve`, ``python -m simulators.gpu``). Never imports the drivers.
"""

from __future__ import annotations

from simulators.gpu.device import GpuNodeDevice, GpuNodeOptions
from simulators.gpu.models import GPU_MODELS, GpuModel, lookup_gpu_model

__all__ = ["GPU_MODELS", "GpuModel", "GpuNodeDevice", "GpuNodeOptions", "lookup_gpu_model"]

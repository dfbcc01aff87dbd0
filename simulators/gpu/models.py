"""GPU models the simulator knows, as data (protocols.md §6; figures marked [E] are estimates)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GPU_MODELS", "GpuModel", "lookup_gpu_model", "node_base_power_w"]


@dataclass(frozen=True, slots=True)
class GpuModel:
    key: str  # what site files and `hashpivot sim` print: "H200"
    nvml_name: str  # what NVML / dcgm-exporter report as the GPU name
    tdp_w: float  # default and maximum power limit
    min_limit_w: float  # lowest settable limit [E]
    idle_w: float  # one idle GPU [E]
    loaded_w: float  # one GPU under a typical training load, uncapped [E]
    mem_total_mib: int
    sm_clock_max_mhz: int
    mem_clock_mhz: int
    node_base_idle_w: float  # CPUs, fans, NICs, NVSwitches: node input minus the GPUs [E]
    node_base_loaded_w: float


GPU_MODELS: dict[str, GpuModel] = {
    "H100": GpuModel(
        "H100", "NVIDIA H100 80GB HBM3", 700, 200, 70, 660, 81559, 1980, 2619, 1000, 1700
    ),
    "H200": GpuModel("H200", "NVIDIA H200", 700, 200, 75, 670, 143771, 1980, 3201, 1000, 1700),
}


def lookup_gpu_model(name: str) -> GpuModel:
    """``"H200"``, ``"h200"`` or ``"HGX H200 8-GPU"`` -> the H200 row."""
    for word in name.upper().replace("-", " ").split():
        if word in GPU_MODELS:
            return GPU_MODELS[word]
    raise KeyError(f"unknown GPU model {name!r} (known: {', '.join(GPU_MODELS)})")


def node_base_power_w(model: GpuModel, load: float) -> float:
    """The node's draw outside its GPUs at a mean GPU load (0 idle .. 1 full job)."""
    return model.node_base_idle_w + load * (model.node_base_loaded_w - model.node_base_idle_w)

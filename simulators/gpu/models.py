"""GPU models the simulator knows, as data (docs/protocols.md §6; figures marked [E] are estimates).

The H200's power behaviour is measured (a real H200 SXM, driver 580.159.04; the traces are
``tests/fixtures/gpu/h200_*``, the figures restated in ``docs/gpu-power.md``). The H100 is
the same chip with less memory; its row reuses the H200's shape and is an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from simulators.gpu.power import Curve, GpuPowerModel, GpuWork, WorkKind

__all__ = [
    "GPU_MODELS",
    "H200_POWER",
    "GpuModel",
    "gpu_demand_w",
    "lookup_gpu_model",
    "node_base_power_w",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuModel:
    key: str  # what site files and `hashpivot sim` print: "H200"
    nvml_name: str  # what NVML / dcgm-exporter report as the GPU name
    tdp_w: float  # default and maximum power limit
    min_limit_w: float  # lowest settable limit
    mem_total_mib: int
    sm_clock_max_mhz: int
    mem_clock_mhz: int
    node_base_idle_w: float  # CPUs, fans, NICs, NVSwitches: node input minus the GPUs [E]
    node_base_loaded_w: float
    power: GpuPowerModel

    @property
    def idle_w(self) -> float:
        """One GPU with no process on it."""
        return self.power.idle_w

    @property
    def loaded_w(self) -> float:
        """One GPU under a dense job all the time, at the default limit (where it sits)."""
        return self.power.compute_curve(1.0)


# Measured on the H200: means over the last 6 s of each 10 s phase of the duty trace, and
# the step response of the dense-load trace.
H200_POWER = GpuPowerModel(
    default_limit_w=700,
    idle_w=79.6,  # no process, 345 MHz, 36 C
    idle_sm_mhz=345,
    context_w=120.9,  # a process holds its CUDA context and sleeps: 1980 MHz
    boost_sm_mhz=1980,
    # duty (share of every 200 ms the bf16 matmul ran) -> mean W; at 100 % the GPU sits at
    # its 700 W limit, so that point is the capped draw (the uncapped appetite is unmeasured)
    compute_curve=Curve(((0.0, 120.9), (0.25, 318.3), (0.5, 496.9), (0.75, 629.9), (1.0, 690.4))),
    compute_clock=Curve(((0.0, 1980), (0.25, 1839), (0.5, 1733), (0.75, 1651), (1.0, 1489))),
    memory_curve=Curve(((0.0, 120.9), (1.0, 399.9))),  # 2 GiB copies back to back; linear [E]
    cap_fill=690.4 / 700,  # capped: 688-695 W against 700 W
    after_load_w=127.0,  # the job ended: ~127 W at boost clock for ~1.9 s, then idle
    boost_hold_s=1.9,
    settle_s=1.0,  # idle -> 692 W in 0.96 s; 690 -> under 130 W in 0.94 s
    temp_base_c=33.2,  # 36 C at 80 W, 57-58 C at 690 W, taken as a line
    temp_c_per_w=0.0352,
)

_H200 = GpuModel(
    key="H200",
    nvml_name="NVIDIA H200",
    tdp_w=700,
    min_limit_w=200,
    mem_total_mib=143771,
    sm_clock_max_mhz=1980,
    mem_clock_mhz=3201,
    node_base_idle_w=1000,
    node_base_loaded_w=1700,
    power=H200_POWER,
)
# The same chip with less, slower memory: its row differs in name and memory only.
_H100 = replace(
    _H200, key="H100", nvml_name="NVIDIA H100 80GB HBM3", mem_total_mib=81559, mem_clock_mhz=2619
)

GPU_MODELS: dict[str, GpuModel] = {model.key: model for model in (_H100, _H200)}


def lookup_gpu_model(name: str) -> GpuModel:
    """``"H200"``, ``"h200"`` or ``"HGX H200 8-GPU"`` -> the H200 row."""
    for word in name.upper().replace("-", " ").split():
        if word in GPU_MODELS:
            return GPU_MODELS[word]
    raise KeyError(f"unknown GPU model {name!r} (known: {', '.join(GPU_MODELS)})")


def node_base_power_w(model: GpuModel, load: float) -> float:
    """The node's draw outside its GPUs at a mean GPU load (0 idle .. 1 full job)."""
    return model.node_base_idle_w + load * (model.node_base_loaded_w - model.node_base_idle_w)


def gpu_demand_w(model: GpuModel, load: float) -> float:
    """One GPU's draw at the default limit under a dense job busy ``load`` of the time
    (0: no job), from the model's measured curve, as the simulator draws it."""
    work = GpuWork.of(WorkKind.COMPUTE, load) if load > 0 else GpuWork()
    return model.power.demand_w(work)

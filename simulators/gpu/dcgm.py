"""dcgm-exporter's ``/metrics`` for one simulated node: its default counters and labels.

Field names, units and label set follow dcgm-exporter's ``default-counters.csv``
(docs/protocols.md §5): power in W, energy in mJ (counter), framebuffer in MiB.
A lost GPU drops out of the output, as it does from DCGM.
"""

from __future__ import annotations

from simulators.gpu.node import GpuNode

__all__ = ["render_metrics"]

_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."),
    ("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz)."),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
    (
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "counter",
        "Total energy consumption since boot (in mJ).",
    ),
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
    ("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)."),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
    ("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
    ("DCGM_FI_DEV_ENFORCED_POWER_LIMIT", "gauge", "Current enforced power limit (in W)."),
)


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


def render_metrics(node: GpuNode) -> str:
    now = node.clock.now()
    lines: list[str] = []
    for name, kind, help_text in _FIELDS:
        if name == "DCGM_FI_DEV_ENFORCED_POWER_LIMIT" and not node.options.dcgm_power_limit:
            continue
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for gpu in node.gpus:
            if gpu.lost:
                continue
            used = gpu.mem_used_mib()
            value: float = {
                "DCGM_FI_DEV_SM_CLOCK": gpu.sm_clock_mhz(now),
                "DCGM_FI_DEV_MEM_CLOCK": node.spec.mem_clock_mhz,
                "DCGM_FI_DEV_GPU_TEMP": round(gpu.temp_c(now)),
                "DCGM_FI_DEV_POWER_USAGE": round(gpu.power_w(now), 3),
                "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": round(gpu.energy_at(now) * 1000),
                "DCGM_FI_DEV_GPU_UTIL": round(gpu.utilisation_pct()),
                "DCGM_FI_DEV_MEM_COPY_UTIL": round(gpu.utilisation_pct() * 0.45),
                "DCGM_FI_DEV_FB_FREE": node.spec.mem_total_mib - used,
                "DCGM_FI_DEV_FB_USED": used,
                "DCGM_FI_DEV_XID_ERRORS": gpu.xid_last,
                "DCGM_FI_DEV_ENFORCED_POWER_LIMIT": gpu.limit_w,
            }[name]
            labels = (
                f'gpu="{gpu.index}",UUID="{gpu.uuid}",pci_bus_id="{pci_bus_id(gpu.index)}",'
                f'device="nvidia{gpu.index}",modelName="{node.spec.nvml_name}",'
                f'Hostname="{node.hostname}",DCGM_FI_DRIVER_VERSION="{node.options.driver_version}"'
            )
            lines.append(f"{name}{{{labels}}} {_format(value)}")
    return "\n".join(lines) + "\n"


def pci_bus_id(index: int) -> str:
    return f"00000000:{0x18 + 0x10 * index:02X}:00.0"

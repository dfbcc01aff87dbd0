"""Readings from the two sources a site may run: the agent's JSON, or dcgm-exporter text."""

from __future__ import annotations

from typing import Any

from drivers.errors import ProtocolError
from drivers.gpu.promtext import PromParseError, parse_samples
from drivers.gpu.types import GpuReading, NodeReading

__all__ = ["node_from_agent", "node_from_dcgm"]

_FLOATS = (
    "power_w",
    "power_limit_w",
    "power_limit_min_w",
    "power_limit_max_w",
    "power_limit_default_w",
    "energy_j",
    "temp_c",
    "util_pct",
    "mem_util_pct",
    "mem_used_mib",
    "mem_total_mib",
    "sm_clock_mhz",
    "mem_clock_mhz",
)
_INTS = ("throttle_reasons", "ecc_corrected", "ecc_uncorrected")


def _opt_float(gpu: dict[str, Any], key: str) -> float | None:
    value = gpu.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} is not a number")
    return float(value)


def _opt_int(gpu: dict[str, Any], key: str) -> int | None:
    value = gpu.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{key} is not an integer")
    return value


def node_from_agent(host: str, body: dict[str, Any]) -> NodeReading:
    try:
        gpus = []
        for gpu in body["gpus"]:
            floats = {key: _opt_float(gpu, key) for key in _FLOATS}
            ints = {key: _opt_int(gpu, key) for key in _INTS}
            gpus.append(
                GpuReading(
                    index=int(gpu["index"]),
                    uuid=str(gpu.get("uuid") or ""),
                    name=str(gpu.get("name") or ""),
                    xid_last=int(gpu.get("xid_last") or 0),
                    pci_bus_id=gpu.get("pci_bus_id"),
                    lost=bool(gpu.get("lost", False)),
                    **floats,  # type: ignore[arg-type]
                    **ints,
                )
            )
        return NodeReading(
            hostname=str(body.get("hostname") or host),
            gpus=tuple(sorted(gpus, key=lambda g: g.index)),
            driver_version=body.get("driver_version"),
            backend=str(body.get("backend", "nvml")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(host, f"agent /v1/node: unexpected shape: {exc}") from exc


# dcgm-exporter field -> (GpuReading field, scale)
_DCGM = {
    "DCGM_FI_DEV_POWER_USAGE": ("power_w", 1.0),
    "DCGM_FI_DEV_ENFORCED_POWER_LIMIT": ("power_limit_w", 1.0),
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": ("energy_j", 1e-3),  # mJ
    "DCGM_FI_DEV_GPU_TEMP": ("temp_c", 1.0),
    "DCGM_FI_DEV_GPU_UTIL": ("util_pct", 1.0),
    "DCGM_FI_DEV_MEM_COPY_UTIL": ("mem_util_pct", 1.0),
    "DCGM_FI_DEV_FB_USED": ("mem_used_mib", 1.0),
    "DCGM_FI_DEV_SM_CLOCK": ("sm_clock_mhz", 1.0),
    "DCGM_FI_DEV_MEM_CLOCK": ("mem_clock_mhz", 1.0),
    "DCGM_FI_DEV_XID_ERRORS": ("xid_last", 1.0),
}


def node_from_dcgm(host: str, text: str) -> NodeReading:
    """One node's GPUs from dcgm-exporter ``/metrics`` (limits only if the site exports them)."""
    try:
        samples = parse_samples(text)
    except PromParseError as exc:
        raise ProtocolError(host, f"dcgm-exporter /metrics: {exc}") from exc
    fields: dict[int, dict[str, Any]] = {}
    hostname, driver = host, None
    for sample in samples:
        free = sample.name == "DCGM_FI_DEV_FB_FREE"
        if sample.name not in _DCGM and not free:
            continue
        gpu_label = sample.label("gpu")
        if gpu_label is None or not gpu_label.isdigit():
            continue
        gpu = fields.setdefault(
            int(gpu_label), {"uuid": sample.label("UUID") or "", "name": sample.label("modelName")}
        )
        hostname = sample.label("Hostname") or hostname
        driver = sample.label("DCGM_FI_DRIVER_VERSION") or driver
        if free:
            gpu["_fb_free"] = sample.value
            continue
        key, scale = _DCGM[sample.name]
        gpu[key] = sample.value * scale
    if not fields:
        raise ProtocolError(host, "dcgm-exporter /metrics has no per-GPU samples")
    gpus = []
    for index, values in sorted(fields.items()):
        free_mib = values.pop("_fb_free", None)
        used = values.get("mem_used_mib")
        total = None if free_mib is None or used is None else used + free_mib
        gpus.append(
            GpuReading(
                index=index,
                uuid=values.pop("uuid"),
                name=values.pop("name") or "",
                power_w=values.pop("power_w", None),
                power_limit_w=values.pop("power_limit_w", None),
                mem_total_mib=total,
                xid_last=int(values.pop("xid_last", 0)),
                **values,
            )
        )
    return NodeReading(
        hostname=hostname, gpus=tuple(gpus), driver_version=driver, backend="dcgm-exporter"
    )

"""The site a backtest replays: the simulator's site file joined with the controller's config.

The site file (``hashpivot sim``'s) says which devices exist, by make and model, and
the other site load (the meter's ``base_load_w``); the controller config says which
of them the controller runs (GPU nodes' AI class, priority groups), the policy
settings, the interconnect cap and the standing economics. Each device's physics is
the simulator's (:mod:`simulators.physics`, the makes' model modules).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from controller.backtest.errors import BacktestError
from controller.config.settings import ControllerConfig, load_config
from controller.errors import ConfigError
from controller.policy import AiClass, DeviceProfile, PolicySettings
from drivers import Make
from drivers.models import MODELS, ModelSpec, UnknownModel, lookup_model
from simulators.entry import MinerEntryBase, SiteEntry
from simulators.errors import SiteError
from simulators.gpu.entry import GpuEntry
from simulators.gpu.models import GpuModel, lookup_gpu_model
from simulators.meter.entry import MeterEntry
from simulators.physics import PhysicsSpec, Timings
from simulators.registry import sim_spec
from simulators.site import Site, load_site

__all__ = ["BacktestSite", "DeviceKind", "default_config_path", "load_backtest_site"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceKind:
    """Devices that share make, model, physics, lever profile and economics."""

    name: str  # "whatsminer M60S", "gpu H200 contracted"
    profile: DeviceProfile
    spec: ModelSpec  # the controller's model table row (efficiency, sleep draw)
    timings: Timings
    physics: PhysicsSpec | None = None  # miners
    gpu: GpuModel | None = None  # GPU nodes
    gpu_count: int = 8
    job_load: float = 0.95  # GPU nodes: load of their jobs while schedulable
    initial_cap_w: float | None = None  # a power target/limit set before the backtest
    restart_on_target: bool = False  # Whatsminer: a new power limit restarts mining
    target_range_w: tuple[float, float] | None = None  # what the firmware accepts
    ai_usd_per_gpu_hour: float = 0.0

    @property
    def is_gpu(self) -> bool:
        return self.gpu is not None

    @property
    def nameplate_w(self) -> float:
        return self.spec.nameplate_w

    def ai_usd(self, gpu_seconds: float) -> float:
        """What paid GPU work earns (the economics' ``ai`` component): GPU-seconds at the
        class's rate per GPU-hour. The fast mode and the HIL replay both count with it."""
        return gpu_seconds * self.ai_usd_per_gpu_hour / 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestSite:
    name: str
    source: str
    kinds: tuple[DeviceKind, ...]
    device_ids: tuple[str, ...]  # sorted
    device_kinds: tuple[int, ...]  # per device: index into kinds
    other_load_w: float
    cap_mw: float
    ramp_up_mw_per_min: float | None
    ramp_down_mw_per_min: float | None
    settings: PolicySettings
    hashprice_usd_per_ph_day: float
    contracted_usd_per_gpu_hour: float
    interruptible_usd_per_gpu_hour: float
    idle_usd_per_gpu_hour: float

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for k in self.device_kinds:
            out[self.kinds[k].name] = out.get(self.kinds[k].name, 0) + 1
        return out


def default_config_path(site_path: Path, site_name: str) -> Path | None:
    """``site-small.yaml`` names site ``small``: its controller is ``hashpivot-small.yaml``."""
    candidate = site_path.with_name(f"hashpivot-{site_name}.yaml")
    return candidate if candidate.exists() else None


def _gpu_spec(model: GpuModel) -> ModelSpec:
    for spec in MODELS:
        if spec.make is Make.GPU and model.key in spec.model.upper().split():
            return spec
    raise UnknownModel(f"gpu {model.key!r} is not in the model table")


def _ai_rate(config: ControllerConfig, ai: AiClass) -> float:
    e = config.economics
    return {
        AiClass.CONTRACTED: e.contracted_usd_per_gpu_hour,
        AiClass.INTERRUPTIBLE: e.interruptible_usd_per_gpu_hour,
        AiClass.IDLE: e.idle_usd_per_gpu_hour,
    }[ai]


def _kind(
    entry: SiteEntry,
    config: ControllerConfig,
    ai: AiClass | None,
    group: str,
) -> DeviceKind:
    if isinstance(entry, GpuEntry):
        model = lookup_gpu_model(entry.model)
        spec = _gpu_spec(model)
        ai = ai or AiClass.CONTRACTED  # the controller's default (reconcile/observe.py)
        profile = DeviceProfile.for_model(spec, ai_class=ai, group=group)
        profile = replace(
            profile,
            gpu_count=entry.gpus,
            gpu_power_limit_range_w=(model.min_limit_w * entry.gpus, model.tdp_w * entry.gpus),
        )
        load = 0.0 if ai is AiClass.IDLE else entry.load
        return DeviceKind(
            name=f"gpu {model.key} {ai.value}",
            profile=profile,
            spec=spec,
            timings=entry.to_timings(),
            gpu=model,
            gpu_count=entry.gpus,
            job_load=load,
            ai_usd_per_gpu_hour=_ai_rate(config, ai),
        )
    if not isinstance(entry, MinerEntryBase):
        raise KeyError(f"make {entry.make!r} has no backtest replay")
    spec = lookup_model(Make(entry.make), entry.model)
    profile = DeviceProfile.for_model(spec, group=group)
    replay = sim_spec(entry.make).replay  # the make's own (simulators/<make>/make.py)
    if replay is None:
        raise KeyError(f"make {entry.make!r} registers no backtest replay")
    r = replay(entry)
    if not r.writes:  # the controller reads it and leaves it alone
        profile = replace(
            profile, controls=frozenset(), power_target_range_w=None, power_modes=frozenset()
        )
    cap = r.initial_cap_w
    target = r.target_range_w or profile.power_target_range_w
    held = "" if profile.controls else " (no writes)"
    cap_text = f" cap {cap:.0f} W" if cap else ""
    return DeviceKind(
        name=f"{entry.make} {spec.model}{cap_text}{held}",
        profile=profile,
        spec=spec,
        timings=r.timings,
        physics=r.physics,
        initial_cap_w=cap,
        restart_on_target=r.restart_on_target,
        target_range_w=target,
    )


def load_backtest_site(
    site_path: Path, config_path: Path | None, *, hashprice: float | None = None
) -> BacktestSite:
    """Join the site file and the controller config; BacktestError names what is wrong."""
    try:
        site: Site = load_site(site_path)
    except SiteError as exc:
        raise BacktestError(
            str(exc).removeprefix(f"site file {site_path}: "), file=str(site_path)
        ) from None
    if config_path is None:
        config_path = default_config_path(site_path, site.site)
    config: ControllerConfig | None = None
    if config_path is not None:
        try:
            config = load_config(config_path)
        except ConfigError as exc:
            raise BacktestError(
                str(exc).removeprefix(f"{config_path}: "), file=str(config_path)
            ) from None
    # Without a config every device is the controller's, under the default settings.
    config = config or ControllerConfig.model_validate(
        {"site": site.site, "devices": [{"make": "antminer", "address": "127.0.0.1"}]}
    )
    listed: dict[str, tuple[str, AiClass | None, str]] = {}
    if config_path is not None:
        for group in config.devices:
            ai = AiClass(group.ai_class) if group.ai_class else None
            for host in group.hosts():
                listed[host] = (f"{group.name_prefix or ''}{host}", ai, group.group)
    kinds: list[DeviceKind] = []
    index: dict[str, int] = {}
    devices: list[tuple[str, int]] = []
    other_w = 0.0
    for n, entry in enumerate(site.devices):
        if isinstance(entry, MeterEntry):
            other_w += entry.base_load_w
            continue
        for address in entry.addresses():
            if config_path is not None and address not in listed:
                raise BacktestError(
                    f"{address} is not among the controller's devices ({config_path})",
                    file=str(site_path),
                    field=f"devices[{n}]",
                )
            device_id, ai, group_name = listed.get(address, (address, None, ""))
            try:
                kind = _kind(entry, config, ai, group_name)
            except (UnknownModel, KeyError) as exc:
                raise BacktestError(
                    str(exc).strip("'\""), file=str(site_path), field=f"devices[{n}].model"
                ) from None
            if kind.name not in index:
                index[kind.name] = len(kinds)
                kinds.append(kind)
            devices.append((device_id, index[kind.name]))
    if not devices:
        raise BacktestError(
            "the site has no devices to replay (only a meter)", file=str(site_path), field="devices"
        )
    devices.sort()
    e = config.economics
    return BacktestSite(
        name=site.site,
        source=str(site_path),
        kinds=tuple(kinds),
        device_ids=tuple(d for d, _ in devices),
        device_kinds=tuple(k for _, k in devices),
        other_load_w=other_w,
        cap_mw=config.grid.interconnect_cap_mw,
        ramp_up_mw_per_min=config.grid.ramp_up_mw_per_min,
        ramp_down_mw_per_min=config.grid.ramp_down_mw_per_min,
        settings=config.policy.to_settings(),
        hashprice_usd_per_ph_day=e.hashprice_usd_per_ph_day if hashprice is None else hashprice,
        contracted_usd_per_gpu_hour=e.contracted_usd_per_gpu_hour,
        interruptible_usd_per_gpu_hour=e.interruptible_usd_per_gpu_hour,
        idle_usd_per_gpu_hour=e.idle_usd_per_gpu_hour,
    )

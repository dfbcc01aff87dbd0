"""The backtest's site as a simulated site on loopback, and the controller's config for it.

The same site file gives the same makes, models, counts, timings, quirks, faults and
meter; only the addresses move, into ``127.172.0.0/16`` (a device's address is its
identity on the wire, and the site file's own may be in use), one per device in the
file's order, then the meters on the next /24 (the first run of free /24s: a replay
running beside this one keeps its own). The controller's config is the site's
own with the devices moved the same way, the network inputs (signal sources, MQTT)
left out, since the replay feeds the inputs itself, the GPU nodes under the simulated
scheduler (:mod:`.scheduler`) in place of any Slurm cluster, and the I/O timings scaled
to the compressed clock (:func:`hil_config`). The policy's settings are untouched.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr, ValidationError

from controller.backtest.errors import BacktestError
from controller.config.sections import ApiConfig, JournalConfig, MeterConfig
from controller.config.settings import ControllerConfig, load_config
from controller.errors import ConfigError
from simulators.entry import SiteEntry
from simulators.meter.entry import MeterEntry
from simulators.ports import PortMap
from simulators.site import Site, load_site

__all__ = ["HIL_PREFIX", "HilSite", "build_hil_site"]

HIL_PREFIX = "127.172"
_PER_BLOCK = 250  # devices per /24, .1 to .250
_PROBE_PORT = 4028  # every simulated miner serves it: a replay on a block holds it


@dataclass(frozen=True, slots=True, kw_only=True)
class HilSite:
    site: Site  # the site file with every address moved
    config: ControllerConfig  # the controller's, over the moved addresses
    device_ids: dict[str, str]  # simulated address -> the backtest's device id
    base_load_w: float  # every meter's base load: the load nothing simulates
    ports: PortMap
    speed: float  # the simulated clock's, which the config's I/O timings are scaled to
    notes: tuple[str, ...] = ()  # what the site file sets that only the replay acts on


def _free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _first_block(devices: int) -> int:
    """The first /24 of a run of free ones under 127.172 for ``devices`` and the meters
    (the last of the run): another replay running beside this one (a second test run on
    the same machine) holds its first block's port 4028, and is stepped over."""
    blocks = -(-devices // _PER_BLOCK) + 1
    if blocks > 256:
        raise BacktestError(
            f"--hil replays at most {255 * _PER_BLOCK} devices on {HIL_PREFIX}.x.x", field="--hil"
        )
    for first in range(0, 257 - blocks, blocks):
        if _free(f"{HIL_PREFIX}.{first}.1", _PROBE_PORT):
            return first
    raise BacktestError(f"--hil: no free addresses left on {HIL_PREFIX}.x.x", field="--hil")


def _can_bind_web_port(host: str) -> bool:
    """Whether the simulated web APIs may have port 80 (root, or a capability)."""
    with socket.socket() as probe:
        try:
            probe.bind((host, 80))
        except PermissionError:
            return False
        except OSError:
            return True  # in use, but allowed: the simulator's own bind says if it conflicts
    return True


def _moved_site(site: Site) -> tuple[Site, dict[str, str], list[MeterEntry]]:
    """One entry per device at its new address; old address -> new."""
    count = sum(
        len(entry.addresses()) for entry in site.devices if not isinstance(entry, MeterEntry)
    )
    first = _first_block(count)
    meters_block = first + -(-count // _PER_BLOCK)
    entries: list[SiteEntry] = []
    moved: dict[str, str] = {}
    meters: list[MeterEntry] = []
    for entry in site.devices:
        if isinstance(entry, MeterEntry):
            address = f"{HIL_PREFIX}.{meters_block}.{len(meters) + 1}"
            meter = entry.model_copy(update={"address": ipaddress.IPv4Address(address)})
            meters.append(meter)
            entries.append(meter)
            continue
        for old in entry.addresses():
            block, host = divmod(len(moved), _PER_BLOCK)
            new = f"{HIL_PREFIX}.{first + block}.{host + 1}"
            moved[old] = new
            entries.append(
                entry.model_copy(update={"start": ipaddress.IPv4Address(new), "count": 1})
            )
    return site.model_copy(update={"devices": tuple(entries)}), moved, meters


def _only_live(site: Site) -> tuple[str, ...]:
    """Faults and firmware quirks in the site file: the simulated devices act on them, the
    fast mode's physics does not, so the two may part where the controller meets them."""
    found: dict[str, list[str]] = {}
    for entry in site.devices:
        if isinstance(entry, MeterEntry):
            continue
        quirks = tuple(str(q) for q in getattr(entry, "quirks", ()))
        for name in (*getattr(entry, "faults", ()), *quirks):
            found.setdefault(name, []).extend(entry.addresses())
    if not found:
        return ()
    listed = "; ".join(
        f"{name} ({', '.join(hosts[:3])}{' ...' if len(hosts) > 3 else ''})"
        for name, hosts in sorted(found.items())
    )
    return (
        "faults and quirks in the site file act on the simulated devices, not in the fast "
        f"mode: {listed}",
    )


def hil_config(
    config: ControllerConfig,
    moved: dict[str, str],
    meter: MeterEntry | None,
    *,
    speed: float,
    listen_port: int,
    journal: Path,
    ports: PortMap,
) -> ControllerConfig:
    """The site's controller config over the moved devices, on the compressed clock.

    A sweep of the site and a meter read cost real time (sockets), so the poll and
    meter intervals are at least ``speed`` / 2 and ``speed`` / 4 simulated seconds (half
    a real second, a quarter), and the confirmation windows leave room for two sweeps.
    The policy's settings stay the site's, but for how old a reading may be.
    """
    data = config.model_dump()
    poll_s = max(config.poll_interval_s, speed / 2)
    groups = []
    for group in config.devices:
        hosts = [moved[h] for h in group.hosts() if h in moved]
        if not hosts:
            continue
        raw = group.model_dump()
        raw.update(address=None, addresses=hosts, start=None, count=None, cidr=None)
        if ports.web != PortMap().web:
            raw["ports"] = {**raw["ports"], "web": ports.web}
        groups.append(raw)
    control = data["control"]
    confirm_s = max(control["confirm_after_s"], 3 * poll_s)
    control.update(
        confirm_after_s=min(confirm_s, 3600.0),
        reconfirm_delays_s=[max(d, 2 * poll_s) for d in control["reconfirm_delays_s"]],
        stuck_hold_s=max(control["stuck_hold_s"], 3600.0),
    )
    gpus = [h for g in groups if g["make"] == "gpu" for h in g["addresses"]]
    scheduler = None
    if gpus:
        # The simulated scheduler (controller/hil/scheduler.py) names nodes by address.
        kept = data["scheduler"] or {}
        scheduler = {
            "cluster": "hil",
            "nodes": {host: host for host in gpus},
            "interval_s": min(poll_s, 3600.0),
            "checkpoint_signal": kept.get("checkpoint_signal", "USR1"),
            "checkpoint_grace_s": kept.get("checkpoint_grace_s", 300.0),
        }
    data.update(
        devices=groups,
        poll_interval_s=poll_s,
        listen=f"127.0.0.1:{listen_port}",
        control=control,
        scheduler=scheduler,
        mqtt=None,
        signals={},
    )
    data["policy"]["max_device_age_s"] = max(config.policy.max_device_age_s, 4 * poll_s)
    try:
        out = ControllerConfig.model_validate(data)
    except ValidationError as exc:
        raise BacktestError(
            f"cannot build the HIL controller config: {exc}", field="--hil"
        ) from None
    update: dict[str, object] = {
        "journal": JournalConfig(path=journal),
        # Writes need a token; nobody outside this process learns it.
        "api": ApiConfig(token=SecretStr(secrets.token_urlsafe(18))),
        "meter": None,
    }
    if meter is not None:
        interval = max(config.meter.interval_s if config.meter else 2.0, speed / 4)
        update["meter"] = MeterConfig(
            host=str(meter.address),
            port=meter.port or ports.modbus,
            unit_id=meter.unit_id,
            interval_s=min(interval, 600.0),
            **(
                {}
                if config.meter is None
                else config.meter.model_dump(
                    include={"tolerance_kw", "settle_s", "baseline_max_age_s", "timeout_s"}
                )
            ),
        )
    return out.model_copy(update=update)


def build_hil_site(
    site_path: Path,
    config_path: Path | None,
    *,
    speed: float,
    listen_port: int,
    journal: Path,
) -> HilSite:
    """The site and config moved onto loopback; each device keeps the backtest's id for it
    (:func:`controller.backtest.load_backtest_site` names it as the controller does)."""
    if config_path is None:
        raise BacktestError(
            "--hil runs the real controller, which needs its config: give --config "
            "(or put hashpivot-<site>.yaml beside the site file)",
            field="--config",
        )
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise BacktestError(str(exc), file=str(config_path)) from None
    device_ids = {
        host: f"{group.name_prefix or ''}{host}"
        for group in config.devices
        for host in group.hosts()
    }
    original = load_site(site_path)
    site, moved, meters = _moved_site(original)
    ports = PortMap() if _can_bind_web_port("127.0.0.1") else PortMap.unprivileged()
    hil = hil_config(
        config,
        moved,
        meters[0] if meters else None,
        speed=speed,
        listen_port=listen_port,
        journal=journal,
        ports=ports,
    )
    return HilSite(
        site=site,
        config=hil,
        device_ids={new: device_ids[old] for old, new in moved.items()},
        base_load_w=sum(m.base_load_w for m in meters),
        ports=ports,
        speed=speed,
        notes=_only_live(original),
    )

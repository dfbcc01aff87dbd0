"""Site files: which simulated devices to run, where, and with which quirks and faults.

```yaml
site: small
devices:
  - make: antminer
    model: S21
    count: 4
    start: 127.0.1.1          # consecutive addresses from here
    quirks: [slow_set_conf]   # optional
    faults: [stall]           # optional; "slow=2.5" = replies after 2.5 real seconds
    timings: {stop_s: 20, boot_s: 120, ramp_s: 600, reboot_s: 90}   # optional
```

``make`` discriminates the entry type, so other makes add an entry class and a
builder without changing this shape. Validated with pydantic; a bad file raises one
SiteError naming the field.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from simulators.antminer.models import lookup_antminer_model
from simulators.antminer.state import AntminerQuirk
from simulators.auradine.models import lookup_auradine_model
from simulators.device import MinerModel
from simulators.errors import SiteError
from simulators.faults import Fault, parse_fault
from simulators.gpu.site_entry import valid_gpu_model
from simulators.meter.site_entry import valid_meter_faults
from simulators.physics import Timings
from simulators.whatsminer.models import lookup_whatsminer_model
from simulators.whatsminer.state import WhatsminerQuirk

__all__ = [
    "AntminerEntry",
    "AuradineEntry",
    "DeviceEntry",
    "GpuEntry",
    "MeterEntry",
    "Site",
    "WhatsminerEntry",
    "load_site",
    "load_site_dict",
]

_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
_DEFAULT_TIMINGS = Timings()


def _loopback_only(value: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
    if value not in _LOOPBACK:
        raise ValueError(f"{value} is not a loopback address: simulators serve 127.0.0.0/8")
    return value


def _known_model(lookup: Callable[[str], MinerModel]) -> AfterValidator:
    """A validator that writes a model as the make's table names it, or names the known ones."""

    def canonical(value: str) -> str:
        try:
            return lookup(value).name
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None

    return AfterValidator(canonical)


LoopbackAddress = Annotated[ipaddress.IPv4Address, AfterValidator(_loopback_only)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimingsModel(_Strict):
    """Phase durations in simulated seconds; 0 makes a transition immediate."""

    stop_s: NonNegativeFloat = _DEFAULT_TIMINGS.stop_s
    boot_s: NonNegativeFloat = _DEFAULT_TIMINGS.boot_s
    ramp_s: NonNegativeFloat = _DEFAULT_TIMINGS.ramp_s
    reboot_s: NonNegativeFloat = _DEFAULT_TIMINGS.reboot_s
    adjust_s: NonNegativeFloat = _DEFAULT_TIMINGS.adjust_s

    def to_timings(self) -> Timings:
        return Timings(self.stop_s, self.boot_s, self.ramp_s, self.reboot_s, self.adjust_s)


class PoolModel(_Strict):
    url: str
    user: str = ""
    password: str = Field(default="x", alias="pass")


class _EntryBase(_Strict):
    count: PositiveInt = 1
    start: LoopbackAddress
    faults: tuple[str, ...] = ()
    timings: TimingsModel | Literal["instant"] | None = None

    @field_validator("faults")
    @classmethod
    def _known_faults(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for fault in value:
            parse_fault(fault)  # UnknownFaultError is a ValueError: pydantic reports it
        return value

    @model_validator(mode="after")
    def _fits_loopback(self) -> _EntryBase:
        last = int(self.start) + self.count - 1
        if ipaddress.IPv4Address(last) not in _LOOPBACK:
            raise ValueError(f"{self.count} addresses from {self.start} leave 127.0.0.0/8")
        return self

    def addresses(self) -> list[str]:
        return [str(self.start + i) for i in range(self.count)]

    def to_timings(self, default: Timings | None = None) -> Timings:
        """The entry's timings; ``default`` (else the physics defaults) where it sets none."""
        if self.timings == "instant":
            return Timings.instant()
        if isinstance(self.timings, TimingsModel):
            return self.timings.to_timings()
        return default or Timings()

    def to_faults(self) -> tuple[Fault, ...]:
        return tuple(parse_fault(f) for f in self.faults)


class AntminerEntry(_EntryBase):
    make: Literal["antminer"]
    model: Annotated[str, _known_model(lookup_antminer_model)]
    quirks: tuple[AntminerQuirk, ...] = ()
    set_conf_delay_s: NonNegativeFloat | None = None  # real seconds, overrides slow_set_conf
    username: str = "root"
    password: str = "root"  # noqa: S105 - the stock default, which clients assume
    pools: tuple[PoolModel, ...] | None = None
    uptime_s: NonNegativeFloat = 3600.0
    mode: Literal["normal", "sleep", "low_power"] = "normal"


class WhatsminerEntry(_EntryBase):
    make: Literal["whatsminer"]
    model: Annotated[str, _known_model(lookup_whatsminer_model)]
    api: Literal["v2", "v3"] = "v2"  # v3: firmware from 2024-11, frames on 4433
    api_writes: bool = False  # the WhatsminerTool API switch; off as shipped
    password: str | None = None  # None: "admin" (v2) / "super" (v3)
    legacy_4028: bool = True  # v3 only: also answer devdetails/get_version on 4028
    firmware: str | None = None
    quirks: tuple[WhatsminerQuirk, ...] = ()
    pools: tuple[PoolModel, ...] | None = None
    uptime_s: NonNegativeFloat = 3600.0
    power_mode: Literal["low", "normal", "high"] = "normal"
    mineroff: bool = False
    power_limit_w: PositiveInt | None = None


class AuradineEntry(_EntryBase):
    make: Literal["auradine"]
    model: Annotated[str, _known_model(lookup_auradine_model)]
    username: str = "admin"
    password: str = "admin"  # noqa: S105 - the stock default, which clients assume
    token_ttl_s: PositiveFloat = 3600.0  # real seconds a REST token stays valid
    pools: tuple[PoolModel, ...] | None = None
    uptime_s: NonNegativeFloat = 3600.0
    mode: Literal["normal", "eco", "turbo", "sleep"] = "normal"
    power_target_w: PositiveInt | None = None  # custom mode with this power target


class GpuEntry(_EntryBase):
    """An 8-GPU node: the node agent's API on 9862 and dcgm-exporter metrics on 9400."""

    make: Literal["gpu"]
    model: Annotated[str, AfterValidator(valid_gpu_model)]
    gpus: PositiveInt = 8
    load: float = Field(default=0.95, ge=0.0, le=1.0)
    token: str = "hashpivot-sim"  # noqa: S105 - the simulated agents' well-known token
    settle_s: NonNegativeFloat = 1.0
    dcgm_power_limit: bool = False


class MeterEntry(_Strict):
    """The site power meter: serves the sum of every simulated device's power."""

    make: Literal["meter"]
    address: LoopbackAddress
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # None: the fleet's Modbus port
    unit_id: Annotated[int, Field(ge=0, le=255)] = 1
    feeds: Annotated[int, Field(ge=0, le=32)] = 2
    base_load_w: NonNegativeFloat = 0.0
    noise: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.005
    energy_start_wh: NonNegativeFloat = 0.0
    faults: tuple[str, ...] = ()
    count: Literal[1] = 1

    @field_validator("faults")
    @classmethod
    def _known_faults(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return valid_meter_faults(value)

    def addresses(self) -> list[str]:
        return [str(self.address)]


DeviceEntry = Annotated[
    AntminerEntry | WhatsminerEntry | AuradineEntry | GpuEntry | MeterEntry,
    Field(discriminator="make"),
]


_MAKES = ("antminer", "whatsminer", "auradine", "gpu", "meter")


class Site(_Strict):
    site: str
    devices: tuple[DeviceEntry, ...]

    @field_validator("devices", mode="before")
    @classmethod
    def _known_makes(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            for index, entry in enumerate(value):
                make = entry.get("make") if isinstance(entry, dict) else None
                if make not in _MAKES:
                    raise ValueError(
                        f"devices[{index}] has make {make!r}, which is not simulated "
                        f"(supported: {', '.join(_MAKES)})"
                    )
        return value

    @field_validator("devices")
    @classmethod
    def _not_empty(cls, value: tuple[DeviceEntry, ...]) -> tuple[DeviceEntry, ...]:
        if not value:
            raise ValueError("a site needs at least one device entry")
        return value

    @model_validator(mode="after")
    def _unique_addresses(self) -> Site:
        seen: dict[str, int] = {}
        for index, entry in enumerate(self.devices):
            for address in entry.addresses():
                if address in seen:
                    first = seen[address]
                    raise ValueError(f"devices[{index}] reuses {address} (devices[{first}])")
                seen[address] = index
        return self

    @property
    def device_count(self) -> int:
        return sum(entry.count for entry in self.devices if not isinstance(entry, MeterEntry))


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _MAKES:  # the discriminator's tag adds no information
            continue
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _site_error(source: str, exc: ValidationError) -> SiteError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    field = _field_path(tuple(first["loc"]))
    message = str(first["msg"]).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return SiteError(f"{source}: {field}: {message}{more}", field=field)


def load_site_dict(data: Any, *, source: str = "site") -> Site:
    """Validate an already-parsed site description."""
    if not isinstance(data, dict):
        raise SiteError(f"{source}: expected a mapping with 'site' and 'devices'")
    try:
        return Site.model_validate(data)
    except ValidationError as exc:
        raise _site_error(source, exc) from None


def load_site(path: str | Path) -> Site:
    """Read and validate a YAML site file."""
    source = f"site file {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SiteError(f"{source}: cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SiteError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        # PyYAML's own message spans lines (with a caret under the spot); one line here.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise SiteError(f"{source}: not valid YAML{where}: {problem}") from None
    return load_site_dict(data, source=source)

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

``make`` discriminates the entry type: each simulator make package registers its
entry class (simulators/<make>/make.py, read through ``simulators.registry``), and
the devices list is the tagged union of the registered classes. Validated with
pydantic; a bad file raises one SiteError naming the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from simulators.entry import SiteEntry, StrictModel
from simulators.errors import SiteError
from simulators.registry import sim_spec, sim_specs

__all__ = ["DeviceEntry", "Site", "load_site", "load_site_dict"]

_MAKES = tuple(spec.make for spec in sim_specs())

if TYPE_CHECKING:
    DeviceEntry = SiteEntry
else:
    # One tagged union over every registered make's entry class.
    DeviceEntry = Annotated[
        Union[tuple(spec.entry for spec in sim_specs())],  # noqa: UP007 - built at run time
        Field(discriminator="make"),
    ]


class Site(StrictModel):
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
        return sum(
            entry.count
            for entry in self.devices
            if sim_spec(entry.make).build is not None  # a meter serves no device
        )


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
    return SiteError(_printable(f"{source}: {field}: {message}{more}"), field=field)


def _printable(text: str) -> str:
    """``text`` with control characters escaped: a key from the file may hold a newline."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


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

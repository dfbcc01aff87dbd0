"""What every site-file entry shares: the base models a make's entry class builds on.

A make's simulator package defines its own entry class (``simulators/<make>/entry.py``)
with ``make: Literal["<make>"]`` as the discriminator, and registers it
(``simulators/<make>/make.py``); ``simulators.site`` joins the registered classes
into one tagged union. See docs/adding-a-make.md.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from simulators.device import MinerModel, PoolEntry, SimDevice
from simulators.faults import Fault, parse_fault
from simulators.physics import Timings

__all__ = [
    "EntryBase",
    "LoopbackAddress",
    "MinerEntryBase",
    "PoolModel",
    "SiteEntry",
    "StrictModel",
    "TimingsModel",
    "device_seed",
    "known_model",
    "per_address",
]

_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
_DEFAULT_TIMINGS = Timings()


def _loopback_only(value: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
    if value not in _LOOPBACK:
        raise ValueError(f"{value} is not a loopback address: simulators serve 127.0.0.0/8")
    return value


def known_model(lookup: Callable[[str], MinerModel]) -> AfterValidator:
    """A validator that writes a model as the make's table names it, or names the known ones."""

    def canonical(value: str) -> str:
        try:
            return lookup(value).name
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None

    return AfterValidator(canonical)


LoopbackAddress = Annotated[ipaddress.IPv4Address, AfterValidator(_loopback_only)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteEntry(StrictModel):
    """Any entry of a site's ``devices`` list; ``make`` names the registered make."""

    make: str
    count: int = 1

    def addresses(self) -> list[str]:
        raise NotImplementedError


class TimingsModel(StrictModel):
    """Phase durations in simulated seconds; 0 makes a transition immediate."""

    stop_s: NonNegativeFloat = _DEFAULT_TIMINGS.stop_s
    boot_s: NonNegativeFloat = _DEFAULT_TIMINGS.boot_s
    ramp_s: NonNegativeFloat = _DEFAULT_TIMINGS.ramp_s
    reboot_s: NonNegativeFloat = _DEFAULT_TIMINGS.reboot_s
    adjust_s: NonNegativeFloat = _DEFAULT_TIMINGS.adjust_s

    def to_timings(self) -> Timings:
        return Timings(
            stop_s=self.stop_s,
            boot_s=self.boot_s,
            ramp_s=self.ramp_s,
            reboot_s=self.reboot_s,
            adjust_s=self.adjust_s,
        )


class PoolModel(StrictModel):
    url: str
    user: str = ""
    password: str = Field(default="x", alias="pass")


class EntryBase(SiteEntry):
    """A run of ``count`` devices on consecutive loopback addresses from ``start``."""

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
    def _fits_loopback(self) -> EntryBase:
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


class MinerEntryBase(EntryBase):
    """What every simulated miner's entry adds: its model, pools and how long it has been up."""

    model: str  # each make validates it against its own model table
    pools: tuple[PoolModel, ...] | None = None
    uptime_s: NonNegativeFloat = 3600.0

    def to_pools(self, default: tuple[PoolEntry, ...]) -> tuple[PoolEntry, ...]:
        if self.pools is None:
            return default
        return tuple(PoolEntry(p.url, p.user, p.password) for p in self.pools)


def device_seed(seed: int, address: str) -> int:
    """One device's random seed: stable for a site seed and address, different across them."""
    digest = hashlib.blake2b(f"{seed}:{address}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def per_address(entry: EntryBase, seed: int, device: Callable[..., SimDevice]) -> list[SimDevice]:
    """One device per address of ``entry``: ``device(address, seed=its seed)``.

    ``device`` is the make's device class with everything else bound, e.g.
    ``partial(AntminerDevice, spec=..., clock=..., ports=..., options=...)``.
    """
    return [device(address, seed=device_seed(seed, address)) for address in entry.addresses()]

"""Where a meter keeps each quantity: register maps as frozen data.

Meters differ only in where and how they store the same three things (total active
power, power per feed, an energy counter), so a meter model is a map, not a class.

:meth:`RegisterMap.default` is hashpivot's reference layout, which the simulated
meter serves (all input registers, function 4)::

    address  words  quantity                        type     order  unit
    0        2      total active power              float32  big    W
    2        4      imported active energy          uint64   big    Wh
    6 + 2k   2      active power of feed k (k>=0)   float32  big    W

Energy is a 64-bit integer because a 32-bit Wh counter wraps after 4.3 GWh (under
two days at 100 MW) and a float32 loses whole kWh by 20 GWh. It sits before the
feeds so its address does not move with the number of feeds.

Word order ``big`` means the high word comes first (Modbus's own byte order inside
each word, as nearly every meter does); ``little`` means the low word comes first.
``scale`` turns the raw number into watts or watt-hours: a register in kW x10
(0.1 kW steps) has scale 100.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from drivers.meter.errors import RegisterMapError

__all__ = ["DataType", "Register", "RegisterKind", "RegisterMap", "WordOrder"]

MAX_ADDRESS = 0xFFFF


class RegisterKind(StrEnum):
    INPUT = "input"  # function 4, read-only registers
    HOLDING = "holding"  # function 3


class WordOrder(StrEnum):
    BIG = "big"  # high word first
    LITTLE = "little"  # low word first


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT64 = "float64"

    @property
    def words(self) -> int:
        return _WORDS[self]

    @property
    def struct_format(self) -> str:
        """Big-endian :mod:`struct` format of the value once words are in big order."""
        return _FORMATS[self]


_WORDS = {
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.FLOAT32: 2,
    DataType.INT64: 4,
    DataType.UINT64: 4,
    DataType.FLOAT64: 4,
}
_FORMATS = {
    DataType.INT16: ">h",
    DataType.UINT16: ">H",
    DataType.INT32: ">i",
    DataType.UINT32: ">I",
    DataType.FLOAT32: ">f",
    DataType.INT64: ">q",
    DataType.UINT64: ">Q",
    DataType.FLOAT64: ">d",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Register:
    """One quantity: where it is, how it is encoded, and what multiplies it into W or Wh."""

    address: int
    data_type: DataType = DataType.FLOAT32
    kind: RegisterKind = RegisterKind.INPUT
    word_order: WordOrder = WordOrder.BIG
    scale: float = 1.0

    def __post_init__(self) -> None:
        # Enum coercion lets hand-written maps use plain strings; bad ones name the field.
        for name, enum in (
            ("data_type", DataType),
            ("kind", RegisterKind),
            ("word_order", WordOrder),
        ):
            value = getattr(self, name)
            if not isinstance(value, enum):
                try:
                    object.__setattr__(self, name, enum(value))
                except ValueError:
                    known = ", ".join(member.value for member in enum)
                    raise RegisterMapError(name, f"{value!r} is not one of {known}") from None
        if isinstance(self.address, bool) or not isinstance(self.address, int):
            raise RegisterMapError("address", f"{self.address!r} is not an integer")
        if not 0 <= self.address <= MAX_ADDRESS - self.words + 1:
            raise RegisterMapError(
                "address", f"{self.address} does not fit {self.words} words in 0..{MAX_ADDRESS}"
            )
        if isinstance(self.scale, bool) or not isinstance(self.scale, int | float):
            raise RegisterMapError("scale", f"{self.scale!r} is not a number")
        if not math.isfinite(self.scale) or self.scale == 0:
            raise RegisterMapError("scale", f"{self.scale!r} must be finite and non-zero")
        object.__setattr__(self, "scale", float(self.scale))

    @property
    def words(self) -> int:
        return self.data_type.words

    @property
    def end(self) -> int:
        """One past the last address this register occupies."""
        return self.address + self.words

    @classmethod
    def from_dict(cls, data: Any) -> Register:
        """Read ``{"address": 0, "data_type": "float32", ...}``; ``words`` may be stated."""
        if not isinstance(data, Mapping):
            raise RegisterMapError("", f"expected a mapping, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known and key != "words":
                raise RegisterMapError(str(key), "unknown field")
        if "address" not in data:
            raise RegisterMapError("address", "is required")
        register = cls(**{key: value for key, value in data.items() if key != "words"})
        if "words" in data and data["words"] != register.words:
            raise RegisterMapError(
                "words", f"{data['words']!r} does not match {register.data_type} ({register.words})"
            )
        return register

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "data_type": self.data_type.value,
            "kind": self.kind.value,
            "word_order": self.word_order.value,
            "scale": self.scale,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterMap:
    """Where one meter model keeps total power, per-feed power and energy.

    ``negative_tolerance_w`` and ``max_power_w`` bound what a reading may show: a site
    meter may dip slightly below zero at idle, but never by megawatts, and no site
    draws a gigawatt. Readings outside are :class:`ImplausibleValue`, not data.
    """

    total_power: Register
    feed_power: tuple[Register, ...] = ()
    energy: Register | None = None
    negative_tolerance_w: float = 1_000.0
    max_power_w: float = 1e9
    max_energy_wh: float = 1e15

    def __post_init__(self) -> None:
        object.__setattr__(self, "feed_power", tuple(self.feed_power))
        for name in ("negative_tolerance_w", "max_power_w", "max_energy_wh"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RegisterMapError(name, f"{value!r} is not a number")
            may_be_zero = name == "negative_tolerance_w"
            if not math.isfinite(value) or value < 0 or (value == 0 and not may_be_zero):
                wanted = "not negative" if may_be_zero else "positive"
                raise RegisterMapError(name, f"{value!r} must be finite and {wanted}")
            object.__setattr__(self, name, float(value))
        self._check_overlaps()

    def named(self) -> Iterator[tuple[str, Register]]:
        """Every register with the name of its field, e.g. ``("feed_power[1]", reg)``."""
        yield "total_power", self.total_power
        for index, register in enumerate(self.feed_power):
            yield f"feed_power[{index}]", register
        if self.energy is not None:
            yield "energy", self.energy

    def _check_overlaps(self) -> None:
        claimed: list[tuple[str, Register]] = []
        for name, register in self.named():
            if not isinstance(register, Register):
                raise RegisterMapError(name, f"expected a Register, got {type(register).__name__}")
            for other_name, other in claimed:
                if (
                    other.kind is register.kind
                    and register.address < other.end
                    and other.address < register.end
                ):
                    raise RegisterMapError(
                        name,
                        f"{register.kind} registers {register.address}..{register.end - 1} "
                        f"overlap {other_name} ({other.address}..{other.end - 1})",
                    )
            claimed.append((name, register))

    @classmethod
    def default(cls, feeds: int = 2) -> RegisterMap:
        """hashpivot's reference layout (see the module docstring) with ``feeds`` feeds."""
        if not 0 <= feeds <= 32:
            raise RegisterMapError("feeds", f"{feeds} is outside 0..32")
        return cls(
            total_power=Register(address=0, data_type=DataType.FLOAT32),
            energy=Register(address=2, data_type=DataType.UINT64),
            feed_power=tuple(
                Register(address=6 + 2 * k, data_type=DataType.FLOAT32) for k in range(feeds)
            ),
        )

    @classmethod
    def from_dict(cls, data: Any) -> RegisterMap:
        """Read a map from plain data (a config file section); errors name the field.

        ``{"total_power": {...}, "feed_power": [{...}, ...], "energy": {...} | None,
        "negative_tolerance_w": 1000, "max_power_w": 1e9, "max_energy_wh": 1e15}``,
        each register as :meth:`Register.from_dict` reads it. ``{"default": {"feeds": 3}}``
        (or ``{"default": {}}``) selects the reference layout.
        """
        if not isinstance(data, Mapping):
            raise RegisterMapError("register_map", f"expected a mapping, got {type(data).__name__}")
        if "default" in data:
            return _default_from_dict(data)
        known = {"total_power", "feed_power", "energy", *_LIMITS}
        for key in data:
            if key not in known:
                raise RegisterMapError(str(key), "unknown field")
        if "total_power" not in data:
            raise RegisterMapError("total_power", "is required")
        total = _register(data["total_power"], "total_power")
        feeds_data = data.get("feed_power", ())
        if isinstance(feeds_data, str | bytes) or not isinstance(feeds_data, list | tuple):
            raise RegisterMapError("feed_power", "expected a list of registers")
        feeds = tuple(_register(item, f"feed_power[{i}]") for i, item in enumerate(feeds_data))
        energy_data = data.get("energy")
        energy = None if energy_data is None else _register(energy_data, "energy")
        limits = {key: data[key] for key in _LIMITS if key in data}
        return cls(total_power=total, feed_power=feeds, energy=energy, **limits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_power": self.total_power.to_dict(),
            "feed_power": [register.to_dict() for register in self.feed_power],
            "energy": None if self.energy is None else self.energy.to_dict(),
            **{key: getattr(self, key) for key in _LIMITS},
        }


_LIMITS = ("negative_tolerance_w", "max_power_w", "max_energy_wh")


def _register(data: Any, name: str) -> Register:
    try:
        return Register.from_dict(data)
    except RegisterMapError as exc:
        raise exc.within(name) from None


def _default_from_dict(data: Mapping[str, Any]) -> RegisterMap:
    if len(data) != 1:
        extra = next(key for key in data if key != "default")
        raise RegisterMapError(str(extra), "cannot be combined with 'default'")
    options = data["default"] if data["default"] is not None else {}
    if not isinstance(options, Mapping) or set(options) - {"feeds"}:
        raise RegisterMapError("default", "accepts only {'feeds': N}")
    feeds = options.get("feeds", 2)
    if isinstance(feeds, bool) or not isinstance(feeds, int):
        raise RegisterMapError("default.feeds", f"{feeds!r} is not an integer")
    try:
        return RegisterMap.default(feeds)
    except RegisterMapError as exc:
        raise exc.within("default") from None

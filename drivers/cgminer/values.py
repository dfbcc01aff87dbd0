"""Field coercion for CGMiner-family replies: one place that knows how values go wrong.

Firmware writes numbers as numbers or as strings (some add units:
``"2687.00W"``), marks absent values with ``""``, ``0`` or ``"0-0-0-0"``, and
names hashrate units in a separate field. Each helper returns ``None`` for
absent and raises :class:`ProtocolError` for a value of the wrong kind, so no
``KeyError``/``TypeError``/``ValueError`` escapes a parser.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from drivers.errors import ProtocolError

__all__ = [
    "as_dict",
    "as_list",
    "first",
    "opt_flag",
    "opt_float",
    "opt_int",
    "opt_str",
    "opt_unit_float",
    "parse_devdetails",
    "parse_pools",
    "pool_list",
    "rate_multiplier",
    "scaled_rate",
    "section",
    "sensor_temps",
]

_RATE_UNITS = {"H": 1.0, "KH": 1e3, "MH": 1e6, "GH": 1e9, "TH": 1e12, "PH": 1e15, "EH": 1e18}


def as_dict(host: str, value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(host, f"{what} is {type(value).__name__}, expected an object")
    return value


def as_list(host: str, value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProtocolError(host, f"{what} is {type(value).__name__}, expected a list")
    return value


def _finite(host: str, number: float, key: str) -> float:
    if not math.isfinite(number):
        raise ProtocolError(host, f"{key} is not a finite number: {number!r}")
    return number


def opt_float(host: str, obj: Mapping[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ProtocolError(host, f"{key} is a boolean, expected a number")
    if isinstance(value, int | float):
        return _finite(host, float(value), key)
    if isinstance(value, str):
        try:
            return _finite(host, float(value.strip()), key)
        except ValueError:
            raise ProtocolError(host, f"{key} is not a number: {value[:40]!r}") from None
    raise ProtocolError(host, f"{key} is {type(value).__name__}, expected a number")


def opt_int(host: str, obj: Mapping[str, Any], key: str) -> int | None:
    number = opt_float(host, obj, key)
    return None if number is None else int(number)


def opt_str(host: str, obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ProtocolError(host, f"{key} is {type(value).__name__}, expected a string")


def rate_multiplier(host: str, unit: Any, default: str = "GH") -> float:
    """H/s per unit of a reply's hashrates; ``"GH"`` and ``"GH/s"`` both mean 1e9."""
    if unit is None or unit == "":
        unit = default
    if not isinstance(unit, str):
        raise ProtocolError(host, f"rate_unit is {type(unit).__name__}, expected a string")
    key = unit.strip().upper().removesuffix("/S").removesuffix("S")
    try:
        return _RATE_UNITS[key]
    except KeyError:
        raise ProtocolError(host, f"unknown hashrate unit {unit[:20]!r}") from None


def sensor_temps(host: str, value: Any, key: str) -> tuple[float, ...]:
    """Non-zero readings from ``"61-44-63-64"``, ``[61, 44, 63, 64]`` or a bare number.

    Zero (and ``"0-0-0-0"``, ``""``) is how the firmware says a sensor is absent.
    """
    if value is None or value == "":
        return ()
    if isinstance(value, bool):
        raise ProtocolError(host, f"{key} is a boolean, expected temperatures")
    if isinstance(value, int | float):
        parts: list[Any] = [value]
    elif isinstance(value, str):
        parts = value.split("-")
    elif isinstance(value, list):
        parts = value
    else:
        raise ProtocolError(host, f"{key} is {type(value).__name__}, expected temperatures")
    temps: list[float] = []
    for part in parts:
        if part == "":
            continue  # "-5-40": a negative reading loses its sign here, which errs warm
        if isinstance(part, bool) or not isinstance(part, int | float | str):
            raise ProtocolError(host, f"{key} holds {type(part).__name__}, expected numbers")
        try:
            reading = float(part)
        except ValueError:
            raise ProtocolError(host, f"{key} is not a temperature list: {value!r:.40}") from None
        if reading and math.isfinite(reading):
            temps.append(reading)
    return tuple(temps)


def section(host: str, reply: Any, key: str) -> list[Any]:
    return as_list(host, as_dict(host, reply, "reply").get(key), key)


def first(host: str, reply: Any, key: str) -> Mapping[str, Any]:
    items = section(host, reply, key)
    if not items:
        raise ProtocolError(host, f"{key} is empty")
    return as_dict(host, items[0], f"{key}[0]")


def scaled_rate(host: str, obj: Mapping[str, Any], key: str, scale: float) -> float | None:
    value = opt_float(host, obj, key)
    return None if value is None else value * scale


def parse_pools(host: str, reply: Any) -> tuple[tuple[str, str], ...]:
    """(url, user) per configured pool, in priority order."""
    return pool_list(host, section(host, reply, "POOLS"), "POOLS", url_key="URL", user_key="User")


def pool_list(
    host: str, items: list[Any], what: str, *, url_key: str, user_key: str
) -> tuple[tuple[str, str], ...]:
    """(url, user) of each pool object in ``items`` (``what`` in errors); each needs a url."""
    pools = []
    for n, raw in enumerate(items):
        item = as_dict(host, raw, f"{what}[{n}]")
        url = opt_str(host, item, url_key)
        if url is None:
            raise ProtocolError(host, f"{what}[{n}] has no {url_key}")
        pools.append((url, opt_str(host, item, user_key) or ""))
    return tuple(pools)


def parse_devdetails(host: str, reply: Any) -> str | None:
    """The first model a ``devdetails`` reply names; None if no entry names one."""
    for n, raw in enumerate(section(host, reply, "DEVDETAILS")):
        model = opt_str(host, as_dict(host, raw, f"DEVDETAILS[{n}]"), "Model")
        if model:
            return model
    return None


_UNIT_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([A-Za-z%/]*)\s*$")


def opt_unit_float(host: str, obj: Mapping[str, Any], key: str, unit: str) -> float | None:
    """A number that may carry its unit as text: ``"2687.00W"``, ``"4052.00 RPM"``, ``3300``.

    A different unit than ``unit`` is a protocol error, not a silent mis-scale.
    """
    value = obj.get(key)
    if isinstance(value, str):
        match = _UNIT_NUMBER.match(value)
        if match is None:
            raise ProtocolError(host, f"{key} is not a number with a unit: {value[:40]!r}")
        number, found = match.groups()
        if found and found.upper() != unit.upper():
            raise ProtocolError(host, f"{key} is in {found!r}, expected {unit!r}")
        return _finite(host, float(number), key)
    return opt_float(host, obj, key)


def opt_flag(host: str, obj: Mapping[str, Any], key: str) -> bool | None:
    """Booleans as firmware writes them: true/false, "true"/"false", 1/0, "1"/"0"."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise ProtocolError(host, f"{key} is {value!r:.40}, expected a boolean")

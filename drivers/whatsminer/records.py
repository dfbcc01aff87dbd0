"""What the Whatsminer parsers return, the same records for API v2 and API v3.

Both API generations describe the same machine in different words; the parsers
translate each into these records (H/s, W, °C, RPM, seconds) so the device layer
has one set of rules for state, power and confirmation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drivers.types import DeviceError, HashBoard, PowerMode

__all__ = [
    "V3_FIRST_FIRMWARE",
    "MinerSetting",
    "Reading",
    "firmware_date",
    "power_mode_of",
    "uses_api_v3",
]

# pyasic and asic-rs move to API v3 for firmware dated from November 2024 (docs/protocols.md §2.2).
V3_FIRST_FIRMWARE = 20241100

_DATE = re.compile(r"(20\d{6})")
_MODES = {"low": PowerMode.LOW, "normal": PowerMode.NORMAL, "high": PowerMode.HIGH}


def firmware_date(firmware: str | None) -> int | None:
    """``"20230803.11.REL"`` (or v1's quoted ``"'20220919.15.REL'"``) -> 20230803."""
    if not firmware:
        return None
    match = _DATE.search(firmware)
    return int(match.group(1)) if match else None


def uses_api_v3(firmware: str | None) -> bool | None:
    """True/False by the firmware's date code; None when it carries no date."""
    date = firmware_date(firmware)
    return None if date is None else date >= V3_FIRST_FIRMWARE


def power_mode_of(text: str | None) -> PowerMode | None:
    return _MODES.get(text.strip().lower()) if text else None


@dataclass(frozen=True, slots=True)
class MinerSetting:
    """What the unit was told to do: the read-back that confirms a write."""

    mining_off: bool | None  # v2 status.mineroff / btmineroff; v3 not device.info working
    power_limit_w: float | None = None
    power_mode: PowerMode | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """One poll's measurements, None where not measured (``Reading()``: nothing read).
    ``power_w`` is the unit's own reading."""

    hashrate_hs: float | None = None
    nameplate_hs: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    power_mode: PowerMode | None = None
    elapsed_s: float | None = None
    fans_rpm: tuple[int, ...] = ()
    env_temp_c: float | None = None
    boards: tuple[HashBoard, ...] = ()
    board_temps_c: tuple[float, ...] = ()
    ramp_done: bool | None = None  # every board's "Upfreq Complete" / "up-freq-finish"
    errors: tuple[DeviceError, ...] = ()

"""Domain types the drivers return: frozen, slotted, unit-explicit.

Units are base units throughout: hashes per second, watts, degrees Celsius,
revolutions per minute, seconds. Values a device does not report are ``None``,
never zero, so a missing reading cannot pass for a real one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drivers.makes import make_package_names

__all__ = [
    "Command",
    "CommandOutcome",
    "Control",
    "DeviceEndpoint",
    "DeviceError",
    "DeviceInfo",
    "HashBoard",
    "IdentityConflict",
    "Make",
    "MiningState",
    "PowerMode",
    "Reboot",
    "RestoreGpuPowerLimits",
    "SetGpuPowerLimit",
    "SetPowerMode",
    "SetPowerTarget",
    "Sleep",
    "Telemetry",
    "Wake",
    "is_sleep",
]


if TYPE_CHECKING:

    class Make(enum.StrEnum):
        """One member per make package (drivers/<make>/make.py), named by the package.

        mypy sees the members that code outside the make packages names; at run time
        the enum has one member per registered make, built below from the package tree.
        tests/test_makes.py checks that these static members are all registered.
        """

        ANTMINER = "antminer"
        WHATSMINER = "whatsminer"
        GPU = "gpu"

else:
    Make = enum.StrEnum(
        "Make", [(name.upper(), name) for name in make_package_names()], module=__name__
    )


class MiningState(enum.StrEnum):
    """What the device is doing, as far as its replies tell."""

    HASHING = "hashing"
    SLEEPING = "sleeping"  # commanded off; control board alive
    STARTING = "starting"  # woken, booting or ramping, below its settled hashrate
    FAULT = "fault"  # on, but not hashing and not asked to sleep
    UNKNOWN = "unknown"


class PowerMode(enum.StrEnum):
    NORMAL = "normal"
    LOW = "low"
    HIGH = "high"
    SLEEP = "sleep"


class Control(enum.StrEnum):
    """Levers a model offers; the model table lists which each model has."""

    SLEEP = "sleep"
    WAKE = "wake"
    POWER_MODE = "power_mode"
    POWER_TARGET = "power_target"
    REBOOT = "reboot"
    GPU_POWER_LIMIT = "gpu_power_limit"
    DRAIN = "drain"


@dataclass(frozen=True, slots=True)
class DeviceEndpoint:
    """Where a device listens. Ports default to the makes' standard ones."""

    host: str
    ports: tuple[tuple[str, int], ...] = ()

    def port(self, name: str, default: int) -> int:
        for key, value in self.ports:
            if key == name:
                return value
        return default


@dataclass(frozen=True, slots=True)
class IdentityConflict:
    """The device named itself differently in different places (drivers/identity.py)."""

    reported: tuple[tuple[str, str], ...]  # (where, model as reported), in reading order
    decided: str  # the model the physical evidence supports: the one in DeviceInfo
    evidence: str  # what decided it, in words


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceInfo:
    make: Make
    model: str
    firmware: str | None = None
    serial: str | None = None
    mac: str | None = None
    hostname: str | None = None
    identity_conflict: IdentityConflict | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HashBoard:
    index: int
    hashrate_hs: float | None
    chips: int | None = None
    board_temp_c: float | None = None
    chip_temp_c: float | None = None
    serial: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceError:
    code: str
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Telemetry:
    """One reading of one device."""

    taken_at: float  # unix seconds, from the controller's clock
    mining_state: MiningState
    hashrate_hs: float | None
    power_w: float | None
    power_estimated: bool = False  # True where the firmware reports no power and it was derived
    power_limit_w: float | None = None
    power_mode: PowerMode | None = None
    nameplate_hashrate_hs: float | None = None
    board_temps_c: tuple[float, ...] = ()
    chip_temps_c: tuple[float, ...] = ()
    inlet_temp_c: float | None = None
    fans_rpm: tuple[int, ...] = ()
    boards: tuple[HashBoard, ...] = ()
    uptime_s: float | None = None
    errors: tuple[DeviceError, ...] = ()

    @property
    def max_temp_c(self) -> float | None:
        temps = self.chip_temps_c or self.board_temps_c
        return max(temps) if temps else None


# Commands -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sleep:
    pass


@dataclass(frozen=True, slots=True)
class Wake:
    pass


@dataclass(frozen=True, slots=True)
class SetPowerMode:
    mode: PowerMode


@dataclass(frozen=True, slots=True)
class SetPowerTarget:
    watts: float


@dataclass(frozen=True, slots=True)
class Reboot:
    pass


# GPU-node commands live beside the miners' (not in drivers.gpu) so that the policy, which
# plans them, and every other make can name them without depending on the GPU make package.
@dataclass(frozen=True, slots=True, kw_only=True)
class SetGpuPowerLimit:
    """Set a power limit in watts on every GPU (``watts_per_gpu``) or on some (``per_gpu``).

    The policy plans the first form (one limit for all of a node's GPUs); an operator's
    tool may send the second.
    """

    watts_per_gpu: float | None = None
    per_gpu: tuple[tuple[int, float], ...] = field(default=())

    def targets(self, count: int) -> dict[int, float]:
        if self.watts_per_gpu is not None:
            return dict.fromkeys(range(count), float(self.watts_per_gpu))
        return {index: float(watts) for index, watts in self.per_gpu}


@dataclass(frozen=True, slots=True)
class RestoreGpuPowerLimits:
    """Put every GPU back on its default power limit."""


Command = (
    Sleep | Wake | SetPowerMode | SetPowerTarget | Reboot | SetGpuPowerLimit | RestoreGpuPowerLimits
)


def is_sleep(command: Command) -> bool:
    """Sleep is one control however it is asked for: ``Sleep``, or the sleep power mode."""
    return isinstance(command, Sleep) or (
        isinstance(command, SetPowerMode) and command.mode is PowerMode.SLEEP
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandOutcome:
    """What a write did, after the driver read the setting back.

    ``applied`` is the device's own configuration as read back; the physical
    effect (hashrate and power falling or rising) takes longer and is confirmed
    by later telemetry, by the controller.
    """

    command: Command
    applied: bool
    detail: str = ""
    substituted: Command | None = None  # the nearest command used when the asked one is unsupported
    notes: tuple[str, ...] = field(default_factory=tuple)

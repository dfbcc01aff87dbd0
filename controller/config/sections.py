"""The control loop's sections of the configuration file, with defaults for every field.

Pydantic validates the file; each section then hands the loop frozen settings
(``to_settings()``), grouped as kopf groups its configuration, with retry and
confirmation backoffs given as data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from controller import policy
from controller.errors import ConfigError
from controller.journal.retention import Retention

__all__ = [
    "ApiConfig",
    "ControlConfig",
    "ControlSettings",
    "EconomicsConfig",
    "GridConfig",
    "JournalConfig",
    "LoopSettings",
    "MeterConfig",
    "PolicyConfig",
    "RetentionConfig",
    "read_secret",
]

_Seconds = Annotated[float, Field(ge=0, le=86_400)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def read_secret(
    value: SecretStr | None, env: str | None, file: Path | None, *, where: str
) -> str | None:
    """A secret given inline, by environment variable, or by file (the first one given);
    ``None`` when none is given or it is empty. ``where`` names the file's field."""
    if value is not None:
        return value.get_secret_value() or None
    if env is not None:
        return os.environ.get(env) or None
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read {file}: {exc.strerror}") from None
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlSettings:
    """How the loop dispatches and confirms. Durations are real (controller) seconds."""

    enabled: bool = True
    dry_run: bool = False
    concurrency: int = 1024  # commands in flight across the fleet
    command_timeout_s: float = 60.0  # one apply(), write and read-back together
    retry_delays_s: tuple[float, ...] = (2.0, 10.0, 30.0)  # after a failed send
    confirm_after_s: float = 30.0  # physical effect expected within this of the ack
    reconfirm_delays_s: tuple[float, ...] = (15.0, 60.0)  # re-sends when it did not take
    stuck_hold_s: float = 1800.0  # a failed device is left out of control this long
    sleeping_share: float = 0.1  # below this share of nameplate hashrate a unit is shed
    cycle_on_sweep: bool = True  # re-diff the standing plan after every telemetry sweep
    min_plan_spacing_s: float = 2.0  # plans the meter or confirmations ask for: this far apart
    confirm_min_s: float = 2.0  # during an event, the earliest verdict on an acknowledged sleep
    restart_plan_wait_s: float = 2.0  # an active event at start: plan after this, read or not


class ControlConfig(_Strict):
    enabled: bool = True
    dry_run: bool = False
    concurrency: Annotated[int, Field(ge=1, le=20_000)] = 1024
    command_timeout_s: Annotated[float, Field(gt=0, le=600)] = 60.0
    retry_delays_s: tuple[_Seconds, ...] = (2.0, 10.0, 30.0)
    confirm_after_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    reconfirm_delays_s: tuple[_Seconds, ...] = (15.0, 60.0)
    stuck_hold_s: _Seconds = 1800.0
    sleeping_share: Annotated[float, Field(gt=0, lt=1)] = 0.1
    min_plan_spacing_s: Annotated[float, Field(ge=0, le=600)] = 2.0
    confirm_min_s: Annotated[float, Field(gt=0, le=3600)] = 2.0
    restart_plan_wait_s: Annotated[float, Field(ge=0, le=600)] = 2.0

    def to_settings(self) -> ControlSettings:
        return ControlSettings(**self.model_dump())


class PolicyConfig(_Strict):
    """The policy engine's settings (see controller/policy/settings.py)."""

    curtail_after_windows: Annotated[int, Field(ge=0, le=1000)] = 3
    resume_after_windows: Annotated[int, Field(ge=0, le=1000)] = 3
    # One price window: ERCOT's 5-minute real-time interval. 0: every new price is one.
    price_window_s: _Seconds = 300.0
    min_on_dwell_s: _Seconds = 900.0
    min_off_dwell_s: _Seconds = 900.0
    max_cycles_per_day: Annotated[int, Field(ge=0, le=1000)] = 6
    wake_stagger_s: _Seconds = 10.0
    reserve_mw: Annotated[float, Field(ge=0, le=10_000)] = 0.0
    priorities: dict[str, int] = Field(default_factory=dict)
    max_price_age_s: _Seconds = 900.0
    max_hashprice_age_s: _Seconds = 6 * 3600.0
    max_device_age_s: _Seconds = 120.0
    safe_policy: policy.SafePolicy = policy.SafePolicy.HOLD
    plan_interval_s: Annotated[float, Field(gt=0, le=3600)] = 300.0
    utc_offset_s: Annotated[int, Field(ge=-86_400, le=86_400)] = 0

    def to_settings(self) -> policy.PolicySettings:
        # The policy takes its priorities as sorted pairs (a frozen record holds no dict).
        return policy.PolicySettings(
            **self.model_dump(exclude={"priorities"}),
            priorities=tuple(sorted(self.priorities.items())),
        )


class GridConfig(_Strict):
    interconnect_cap_mw: Annotated[float, Field(ge=0, le=100_000)] = 1000.0
    ramp_up_mw_per_min: Annotated[float, Field(gt=0)] | None = None
    ramp_down_mw_per_min: Annotated[float, Field(gt=0)] | None = None
    # The site's load outside the fleet (cooling, offices, losses). Without a meter it is
    # this figure, and plans say so; with one, the meter measures it, and this is the
    # least assumed after a restart until it has (with the last measured value).
    other_load_kw: Annotated[float, Field(ge=0, le=10_000_000)] = 0.0


class EconomicsConfig(_Strict):
    """Standing values until the API (PUT /api/v1/economics) or a feed updates them.

    Values from the file count as current at every plan (source "config"); values
    pushed through the API carry their own time and go stale per the policy's ages.
    """

    power_price_usd_per_mwh: Annotated[float, Field(ge=-10_000, le=100_000)] = 30.0
    hashprice_usd_per_ph_day: Annotated[float, Field(ge=0, le=100_000)] = 45.0
    contracted_usd_per_gpu_hour: Annotated[float, Field(ge=0, le=1000)] = 2.0
    interruptible_usd_per_gpu_hour: Annotated[float, Field(ge=0, le=1000)] = 0.5
    idle_usd_per_gpu_hour: Annotated[float, Field(ge=0, le=1000)] = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopSettings:
    """The sections the reconcile loop plans and acts by."""

    control: ControlSettings
    policy: policy.PolicySettings
    grid: GridConfig
    economics: EconomicsConfig


class MeterConfig(_Strict):
    """A Modbus TCP site meter; without one the loop sums device telemetry and says so."""

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 502
    unit_id: Annotated[int, Field(ge=0, le=255)] = 1
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 2.0
    interval_s: Annotated[float, Field(gt=0, le=600)] = 2.0
    tolerance_kw: Annotated[float, Field(ge=0)] = 0.5  # the level counts as met within this
    registers: dict[str, Any] | None = None  # drivers.meter.RegisterMap.from_dict; default map
    # The other load is measured only from samples with no device commanded for this long
    # before them (the meter sees a change before telemetry does).
    settle_s: Annotated[float, Field(ge=0, le=3600)] = 30.0
    # An event's baseline is the last meter sample before it, if no older than this.
    baseline_max_age_s: Annotated[float, Field(gt=0, le=3600)] = 60.0


class RetentionConfig(_Strict):
    """How long the journal keeps rows (controller.journal.retention): every event, its commands
    and its evidence for ``days`` (a grid program's retention); price updates, memory
    snapshots and full-resolution meter samples for less."""

    days: Annotated[float, Field(ge=1, le=36_500)] = 400.0
    prices_days: Annotated[float, Field(ge=0, le=36_500)] = 7.0
    state_days: Annotated[float, Field(ge=0, le=36_500)] = 7.0
    meter_full_days: Annotated[float, Field(ge=0, le=36_500)] = 30.0
    meter_sample_s: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    every_s: Annotated[float, Field(ge=60, le=7 * 86_400)] = 3600.0

    def to_retention(self) -> Retention:
        return Retention(**self.model_dump())


class JournalConfig(_Strict):
    path: Path | None = None  # None: in memory, nothing survives a restart (a warning says so)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)


class ApiConfig(_Strict):
    """The bearer token that write requests must carry; without one, writes are refused."""

    token: SecretStr | None = None
    token_env: str | None = None
    token_file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if sum(s is not None for s in (self.token, self.token_env, self.token_file)) > 1:
            raise ValueError("give only one of token, token_env, token_file")
        return self

    def resolve(self) -> str | None:
        if self.token is None and self.token_env is None and self.token_file is None:
            return os.environ.get("HASHPIVOT_API_TOKEN") or None
        return read_secret(self.token, self.token_env, self.token_file, where="api.token_file")


AiClassName = Literal["contracted", "interruptible", "idle"]

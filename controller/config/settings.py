"""The controller's configuration file: pydantic at the edge, frozen data inside.

A bad file produces one :class:`ConfigError` whose message names the field and
the problem; callers print it and exit, never a traceback.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from controller.config.drivers import DriversConfig, SchedulerConfig
from controller.config.mqtt import MqttConfig
from controller.config.sections import (
    AiClassName,
    ApiConfig,
    ControlConfig,
    EconomicsConfig,
    GridConfig,
    JournalConfig,
    MeterConfig,
    PolicyConfig,
)
from controller.errors import ConfigError
from controller.signals.config import SignalsConfig
from drivers import Credentials, DeviceEndpoint, Make, spec

__all__ = ["ControllerConfig", "CredentialsConfig", "DeviceGroup", "load_config", "parse_config"]

_PORT_NAMES = {"rpc", "web", "api", "rest", "metrics", "agent"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CredentialsConfig(_Strict):
    """Where a password comes from: inline, an environment variable, or a file.

    Passwords are SecretStr so they never appear in a repr, a log line or an export.
    """

    username: str | None = None
    password: SecretStr | None = None
    password_env: str | None = None
    password_file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        sources = [self.password, self.password_env, self.password_file]
        if sum(source is not None for source in sources) > 1:
            raise ValueError("give only one of password, password_env, password_file")
        return self

    def resolve(self, make: Make) -> Credentials:
        default = spec(
            make
        ).default_credentials  # the make's factory login (drivers/<make>/make.py)
        username = self.username or default.username
        env_default = f"HASHPIVOT_{make.value.upper()}_PASSWORD"
        if self.password is not None:
            password = self.password.get_secret_value()
        elif self.password_env is not None:
            if self.password_env not in os.environ:
                raise ConfigError(f"credentials.password_env: ${self.password_env} is not set")
            password = os.environ[self.password_env]
        elif self.password_file is not None:
            try:
                password = self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"credentials.password_file: cannot read {self.password_file}: {exc.strerror}"
                ) from None
        else:
            password = os.environ.get(env_default, default.password)
        return Credentials(username, password)


class DeviceGroup(_Strict):
    """Devices of one make, given as one address, a list, a start and count, or a CIDR."""

    make: Make
    address: str | None = None
    addresses: list[str] | None = None
    start: str | None = None
    count: Annotated[int, Field(ge=1, le=100_000)] | None = None
    cidr: str | None = None
    ports: dict[str, Annotated[int, Field(ge=1, le=65535)]] = Field(default_factory=dict)
    credentials: CredentialsConfig | None = None
    rack: str | None = None
    name_prefix: str | None = None
    group: str = ""  # priority group for the policy (policy.priorities)
    ai_class: AiClassName | None = None  # GPU nodes: what their jobs are worth

    @field_validator("ports")
    @classmethod
    def _known_ports(cls, ports: dict[str, int]) -> dict[str, int]:
        unknown = set(ports) - _PORT_NAMES
        if unknown:
            raise ValueError(f"unknown port name(s) {sorted(unknown)}; use {sorted(_PORT_NAMES)}")
        return ports

    @model_validator(mode="after")
    def _ai_class_on_gpus_only(self) -> Self:
        if self.ai_class is not None and self.make is not Make.GPU:
            raise ValueError("ai_class applies to make: gpu groups only")
        return self

    @model_validator(mode="after")
    def _one_address_form(self) -> Self:
        forms = {
            "address": self.address is not None,
            "addresses": self.addresses is not None,
            "start": self.start is not None,
            "cidr": self.cidr is not None,
        }
        given = [name for name, present in forms.items() if present]
        if len(given) != 1:
            raise ValueError("give exactly one of address, addresses, start (with count), cidr")
        if self.start is not None and self.count is None:
            raise ValueError("start needs count")
        if self.count is not None and self.start is None:
            raise ValueError("count goes with start")
        for host in self.hosts():
            ipaddress.ip_address(host)  # raises ValueError with the bad text
        return self

    def device_id(self, host: str) -> str:
        """A device's id: its address behind the group's ``name_prefix``."""
        return f"{self.name_prefix or ''}{host}"

    def hosts(self) -> list[str]:
        if self.address is not None:
            return [self.address]
        if self.addresses is not None:
            return list(self.addresses)
        if self.start is not None and self.count is not None:
            first = ipaddress.ip_address(self.start)
            return [str(first + offset) for offset in range(self.count)]
        if self.cidr is not None:
            return [str(host) for host in ipaddress.ip_network(self.cidr, strict=False).hosts()]
        return []

    def endpoints(self) -> list[DeviceEndpoint]:
        ports = tuple(sorted(self.ports.items()))
        return [DeviceEndpoint(host, ports) for host in self.hosts()]


class ControllerConfig(_Strict):
    site: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    poll_interval_s: Annotated[float, Field(gt=0.1, le=3600)] = 10.0
    poll_timeout_s: Annotated[float, Field(gt=0.1, le=600)] = 15.0
    concurrency: Annotated[int, Field(ge=1, le=10_000)] = 256
    listen: str = "127.0.0.1:9861"
    unreachable_after: Annotated[int, Field(ge=1, le=100)] = 3
    credentials: dict[Make, CredentialsConfig] = Field(default_factory=dict)
    devices: list[DeviceGroup] = Field(min_length=1)
    control: ControlConfig = Field(default_factory=ControlConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    grid: GridConfig = Field(default_factory=GridConfig)
    economics: EconomicsConfig = Field(default_factory=EconomicsConfig)
    meter: MeterConfig | None = None
    journal: JournalConfig = Field(default_factory=JournalConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    drivers: DriversConfig = Field(default_factory=DriversConfig)
    scheduler: SchedulerConfig | None = None
    signals: SignalsConfig = Field(default_factory=SignalsConfig)
    mqtt: MqttConfig | None = None  # off unless configured

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be HOST:PORT, for example 127.0.0.1:9861")
        return value

    @model_validator(mode="after")
    def _unique_hosts(self) -> Self:
        seen: set[str] = set()
        for group in self.devices:
            for host in group.hosts():
                if host in seen:
                    raise ValueError(f"device address {host} is listed twice")
                seen.add(host)
        return self

    @model_validator(mode="after")
    def _scheduler_nodes_known(self) -> Self:
        if self.scheduler is None:
            return self
        gpus: set[str] = set()
        for group in self.devices:
            if group.make is Make.GPU:
                for host in group.hosts():
                    gpus.update({host, group.device_id(host)})
        unknown = sorted(set(self.scheduler.nodes) - gpus)
        if unknown:
            raise ValueError(f"scheduler.nodes: {unknown} are not GPU nodes in devices")
        return self

    @property
    def listen_host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def listen_port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    def credentials_for(self, group: DeviceGroup) -> Credentials:
        source = group.credentials or self.credentials.get(group.make) or CredentialsConfig()
        return source.resolve(group.make)


def _printable(text: str) -> str:
    """``text`` with control characters escaped: a key from the file may hold a newline."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(_printable(f"{where}: {message}"))
    return "; ".join(lines)


def parse_config(data: Any, *, source: str = "config") -> ControllerConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        return ControllerConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None


def load_config(path: str | Path) -> ControllerConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    return parse_config(data, source=str(path))

"""The ``mqtt:`` section: the site's broker, what goes out on it, and who may command.

MQTT is off unless the section is present. Secrets (the broker password, the command
secret) are SecretStr, so they never appear in a repr, a log line or an export, and
may come from the file, an environment variable, or a file of their own.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from controller.config.sections import read_secret
from controller.errors import ConfigError

__all__ = [
    "CommandAuth",
    "CommandsConfig",
    "HomeAssistantConfig",
    "MqttConfig",
    "MqttTlsConfig",
    "SecretSource",
]

_TOPIC_LEVEL = r"^[^#+\x00]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretSource(_Strict):
    """A secret given inline, by environment variable, or by file (only one of them)."""

    secret: SecretStr | None = None
    secret_env: str | None = None
    secret_file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = (self.secret, self.secret_env, self.secret_file)
        if sum(s is not None for s in given) > 1:
            raise ValueError("give only one of secret, secret_env, secret_file")
        return self

    def resolve(self, where: str) -> str | None:
        return read_secret(
            self.secret, self.secret_env, self.secret_file, where=f"{where}.secret_file"
        )


class CommandAuth(enum.StrEnum):
    """How a command proves it may be executed, besides the broker's own ACL."""

    TOKEN = "token"  # noqa: S105 - the scheme's name, not a secret; the shared secret travels in the message (over TLS)
    HMAC = "hmac"  # HMAC-SHA256 of the command with the shared secret; it never travels


class CommandsConfig(SecretSource):
    """Commands on ``<prefix>cmd/...``; without a secret every command is refused."""

    auth: CommandAuth = CommandAuth.HMAC
    max_skew_s: Annotated[float, Field(gt=0, le=86_400)] = 300.0  # signed commands' ``ts``
    remember: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000  # command ids kept for dedupe


class MqttTlsConfig(_Strict):
    ca_file: Path | None = None  # None: the system's trust store
    cert_file: Path | None = None  # client certificate, for brokers that require one
    key_file: Path | None = None
    insecure: bool = False  # skip the host name check (never the certificate chain)

    @model_validator(mode="after")
    def _pair(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class HomeAssistantConfig(_Strict):
    enabled: bool = False
    prefix: Annotated[str, Field(min_length=1, max_length=100, pattern=_TOPIC_LEVEL)] = (
        "homeassistant"
    )


class MqttConfig(_Strict):
    host: Annotated[str, Field(min_length=1, max_length=255)]
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    # Default ``hashpivot/<site>/``; every topic hashpivot uses starts with it.
    prefix: Annotated[str, Field(max_length=200, pattern=_TOPIC_LEVEL)] | None = None
    client_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    username: str | None = None
    password: SecretStr | None = None
    password_env: str | None = None
    password_file: Path | None = None
    tls: MqttTlsConfig | None = None
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 10.0  # connect, subscribe, QoS 1 acks
    reconnect_min_s: Annotated[float, Field(gt=0, le=600)] = 0.5
    reconnect_max_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    status_interval_s: Annotated[float, Field(gt=0, le=3600)] = 10.0
    telemetry: bool = True
    telemetry_interval_s: Annotated[float, Field(ge=0, le=3600)] = 10.0
    telemetry_chunk: Annotated[int, Field(ge=1, le=10_000)] = 500  # devices per message
    telemetry_qos: Annotated[int, Field(ge=0, le=1)] = 0
    queue_size: Annotated[int, Field(ge=1, le=1_000_000)] = 200  # telemetry messages held
    commands: CommandsConfig = Field(default_factory=CommandsConfig)
    homeassistant: HomeAssistantConfig = Field(default_factory=HomeAssistantConfig)

    @model_validator(mode="after")
    def _checks(self) -> Self:
        given = (self.password, self.password_env, self.password_file)
        if sum(s is not None for s in given) > 1:
            raise ValueError("give only one of password, password_env, password_file")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self

    def topic_prefix(self, site: str) -> str:
        prefix = f"hashpivot/{site}/" if self.prefix is None else self.prefix
        return prefix if not prefix or prefix.endswith("/") else prefix + "/"

    def resolve_password(self) -> str | None:
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_env is not None:
            if self.password_env not in os.environ:
                raise ConfigError(f"mqtt.password_env: ${self.password_env} is not set")
            return os.environ[self.password_env]
        if self.password_file is not None:
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"mqtt.password_file: cannot read {self.password_file}: {exc.strerror}"
                ) from None
        return None

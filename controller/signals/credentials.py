"""How a source's secrets and tokens are configured: a secret (inline, a variable or a
file), a password (a variable or a file only), ERCOT's sign-in, and the token provider a
``bearer_token`` section becomes (controller/signals/tokens.py)."""

from __future__ import annotations

import logging
import os
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from controller.clock import Clock
from controller.errors import ConfigError
from controller.signals.errors import AuthError
from controller.signals.signin import (
    ERCOT_CLIENT_ID,
    ERCOT_SIGN_IN_URL,
    ErcotSignIn,
    SignInSettings,
)
from controller.signals.tokens import StaticToken, TokenFile, TokenProvider

__all__ = [
    "PasswordConfig",
    "SecretConfig",
    "SignInConfig",
    "Strict",
    "Timeout",
    "Url",
    "token_provider",
]

Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)]
Timeout = Annotated[float, Field(gt=0, le=120)]

log = logging.getLogger(__name__)


class Strict(BaseModel):
    """A config section: unknown keys are refused (a typo is an error, not a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretConfig(Strict):
    """A secret given inline, from an environment variable or from a file (one of them)."""

    value: SecretStr | None = None
    env: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if sum(x is not None for x in (self.value, self.env, self.file)) != 1:
            raise ValueError("give exactly one of value, env, file")
        return self

    def resolve(self, where: str) -> str:
        if self.value is not None:
            return self.value.get_secret_value()
        if self.env is not None:
            if self.env not in os.environ:
                raise ConfigError(f"{where}: ${self.env} is not set")
            return os.environ[self.env]
        try:
            with open(str(self.file), encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read {self.file}: {exc.strerror}") from None


def token_provider(token: SecretConfig | None, where: str) -> TokenProvider | None:
    """The source's ``Authorization: Bearer`` token: ``{file: path}`` is re-read when the
    file changes and after a 401 (another tool keeps it fresh); ``{value}``/``{env}`` is
    fixed. A file that cannot be read yet is logged here and counted as ``auth`` errors
    while it stays so: the tool that writes it may start after us."""
    if token is None:
        return None
    if token.file is not None:
        tokens = TokenFile(os.path.expanduser(token.file))
        try:
            tokens.read(force=True)
        except AuthError as exc:
            log.warning("%s: %s", where, exc)
        return tokens
    try:
        return StaticToken(token.resolve(where))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


class PasswordConfig(SecretConfig):
    """A password: from an environment variable or a file, never in the config's text."""

    @model_validator(mode="before")
    @classmethod
    def _not_inline(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "value" in data:
            raise ValueError("give the password as {env: NAME} or {file: path}, not inline")
        return data


class SignInConfig(Strict):
    """ERCOT's API sign-in (Azure AD B2C, resource-owner password flow): an ID token that
    lives an hour, renewed before it ends and after a 401. The defaults are ERCOT's."""

    username: Annotated[str, Field(pattern=r"^\S{1,254}$")]
    password: PasswordConfig
    token_url: Url = ERCOT_SIGN_IN_URL
    client_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")] = ERCOT_CLIENT_ID
    scope: Annotated[str, Field(pattern=r"^[!-~]+( [!-~]+)*$", max_length=500)] | None = None
    timeout_s: Timeout = 10.0
    renew_before_s: Annotated[float, Field(ge=0, le=1800)] = 300.0  # before the token expires

    def provider(self, clock: Clock) -> ErcotSignIn:
        where = "signals.ercot.sign_in.password"
        self.password.resolve(where)  # a missing variable or file stops the start, in one line
        settings = SignInSettings(
            username=self.username,
            token_url=self.token_url,
            client_id=self.client_id,
            scope=self.scope or f"openid {self.client_id} offline_access",
            timeout_s=self.timeout_s,
            renew_before_s=self.renew_before_s,
        )
        return ErcotSignIn(clock, settings, lambda: self.password.resolve(where))

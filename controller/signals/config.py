"""The ``signals:`` section of the config file: one sub-section per source, each off
unless present. Pydantic validates the file; :func:`build_sources` turns it into sources.
"""

from __future__ import annotations

import os
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from controller.errors import ConfigError
from controller.signals.clock import Clock
from controller.signals.prices import ErcotPrices, PriceFeed
from controller.signals.source import Source
from controller.signals.updates import PriceMarket

__all__ = ["ErcotConfig", "PriceUrlConfig", "SecretConfig", "SignalsConfig", "build_sources"]

_Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)]
_Interval = Annotated[float, Field(gt=0, le=86_400)]
_Timeout = Annotated[float, Field(gt=0, le=120)]
_Age = Annotated[float, Field(gt=0, le=7 * 86_400)]
_ERCOT = "https://api.ercot.com/api/public-reports"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretConfig(_Strict):
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


class ErcotConfig(_Strict):
    """ERCOT's public API (or a mirror serving the same report shapes)."""

    settlement_point: Annotated[str, Field(pattern=r"^[A-Z0-9_]{2,40}$")]
    real_time_url: _Url | None = f"{_ERCOT}/np6-905-cd/spp_node_zone_hub"
    day_ahead_url: _Url | None = f"{_ERCOT}/np4-190-cd/dam_stlmnt_pnt_prices"
    subscription_key: SecretConfig | None = None  # header Ocp-Apim-Subscription-Key
    bearer_token: SecretConfig | None = None  # header Authorization: Bearer ...
    # Real-time prices settle every 15 minutes; polling each minute sees a new one within
    # a minute of its publication. The day-ahead market clears once a day.
    real_time_interval_s: _Interval = 60.0
    day_ahead_interval_s: _Interval = 900.0
    timeout_s: _Timeout = 10.0
    stale_after_s: _Age = 1800.0  # the real-time price; the day-ahead curve is not aged

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.subscription_key is not None:
            key = self.subscription_key.resolve("signals.ercot.subscription_key")
            headers["Ocp-Apim-Subscription-Key"] = key
        if self.bearer_token is not None:
            token = self.bearer_token.resolve("signals.ercot.bearer_token")
            headers["Authorization"] = f"Bearer {token}"
        return headers


class PriceUrlConfig(_Strict):
    """Any URL serving the generic CSV/JSON price shape (docs/signals.md)."""

    url: _Url
    market: PriceMarket = PriceMarket.REAL_TIME
    interval_s: _Interval = 60.0
    timeout_s: _Timeout = 10.0
    stale_after_s: _Age | None = 1800.0
    bearer_token: SecretConfig | None = None


class SignalsConfig(_Strict):
    ercot: ErcotConfig | None = None
    price_url: PriceUrlConfig | None = None


def build_sources(config: SignalsConfig, clock: Clock) -> list[Source]:
    sources: list[Source] = []
    if (ercot := config.ercot) is not None:
        headers = ercot.headers()
        common = {"settlement_point": ercot.settlement_point, "headers": headers,
                  "timeout_s": ercot.timeout_s}  # fmt: skip
        if ercot.real_time_url is not None:
            sources.append(ErcotPrices(
                "ercot_rt", clock, PriceMarket.REAL_TIME, url=ercot.real_time_url,
                interval_s=ercot.real_time_interval_s, stale_after_s=ercot.stale_after_s,
                **common,  # type: ignore[arg-type]
            ))  # fmt: skip
        if ercot.day_ahead_url is not None:
            sources.append(ErcotPrices(
                "ercot_dam", clock, PriceMarket.DAY_AHEAD, url=ercot.day_ahead_url,
                interval_s=ercot.day_ahead_interval_s, stale_after_s=None,
                **common,  # type: ignore[arg-type]
            ))  # fmt: skip
    if (feed := config.price_url) is not None:
        headers = {}
        if feed.bearer_token is not None:
            token = feed.bearer_token.resolve("signals.price_url.bearer_token")
            headers["Authorization"] = f"Bearer {token}"
        sources.append(PriceFeed(
            "price_url", clock, feed.market, url=feed.url, headers=headers,
            interval_s=feed.interval_s, timeout_s=feed.timeout_s,
            stale_after_s=feed.stale_after_s if feed.market is PriceMarket.REAL_TIME else None,
        ))  # fmt: skip
    return sources

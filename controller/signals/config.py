"""The ``signals:`` section of the config file: one sub-section per source, each off
unless present. Pydantic validates the file; :func:`build_sources` turns it into sources.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from controller.clock import Clock
from controller.signals.credentials import (
    SecretConfig,
    SignInConfig,
    Strict,
    Timeout,
    Url,
    token_provider,
)
from controller.signals.fourcp import FourCpSource
from controller.signals.hashprice import BitcoindHashprice, HashpriceUrl, MempoolHashprice
from controller.signals.openadr import OpenAdrVen, VenSettings
from controller.signals.prices import ErcotPrices, PriceFeed
from controller.signals.relay import RelaySource
from controller.signals.source import Source
from controller.signals.tokens import TokenProvider
from controller.signals.updates import PriceMarket
from controller.signals.webhook import Provider
from drivers.meter import RelayContact

__all__ = [
    "BitcoindConfig",
    "ErcotConfig",
    "FourCpConfig",
    "HashpriceConfig",
    "HashpriceUrlConfig",
    "MempoolConfig",
    "OpenAdrConfig",
    "PriceUrlConfig",
    "RelayConfig",
    "SignalsConfig",
    "WebhookConfig",
    "build_sources",
    "build_webhooks",
]

_Interval = Annotated[float, Field(gt=0, le=86_400)]
_Age = Annotated[float, Field(gt=0, le=7 * 86_400)]
_ERCOT = "https://api.ercot.com/api/public-reports"


class ErcotConfig(Strict):
    """ERCOT's public API (or a mirror serving the same report shapes)."""

    settlement_point: Annotated[str, Field(pattern=r"^[A-Z0-9_]{2,40}$")]
    real_time_url: Url | None = f"{_ERCOT}/np6-905-cd/spp_node_zone_hub"
    day_ahead_url: Url | None = f"{_ERCOT}/np4-190-cd/dam_stlmnt_pnt_prices"
    subscription_key: SecretConfig | None = None  # header Ocp-Apim-Subscription-Key
    # The ID token (header Authorization: Bearer ...): ERCOT's sign-in, or a token kept
    # fresh in a file by another tool, or a fixed one. A mirror may need none.
    sign_in: SignInConfig | None = None
    bearer_token: SecretConfig | None = None
    # Real-time prices settle every 15 minutes; polling each minute sees a new one within
    # a minute of its publication. The day-ahead market clears once a day.
    real_time_interval_s: _Interval = 60.0
    day_ahead_interval_s: _Interval = 900.0
    timeout_s: Timeout = 10.0
    stale_after_s: _Age = 1800.0  # the real-time price; the day-ahead curve is not aged

    @model_validator(mode="after")
    def _one_token(self) -> Self:
        if self.sign_in is not None and self.bearer_token is not None:
            raise ValueError("give sign_in or bearer_token, not both")
        return self

    def headers(self) -> dict[str, str]:
        if self.subscription_key is None:
            return {}
        key = self.subscription_key.resolve("signals.ercot.subscription_key")
        return {"Ocp-Apim-Subscription-Key": key}

    def token(self, clock: Clock) -> TokenProvider | None:
        """One provider for both reports: one sign-in serves both."""
        if self.sign_in is not None:
            return self.sign_in.provider(clock)
        return token_provider(self.bearer_token, "signals.ercot.bearer_token")

    def sources(self, clock: Clock) -> list[ErcotPrices]:
        """The real-time and the day-ahead report, each unless its URL is null."""
        headers, token = self.headers(), self.token(clock)
        reports = (
            ("ercot_rt", PriceMarket.REAL_TIME, self.real_time_url, self.real_time_interval_s),
            ("ercot_dam", PriceMarket.DAY_AHEAD, self.day_ahead_url, self.day_ahead_interval_s),
        )
        return [
            ErcotPrices(
                name,
                clock,
                market,
                settlement_point=self.settlement_point,
                url=url,
                headers=headers,
                token=token,
                interval_s=interval_s,
                timeout_s=self.timeout_s,
                # The day-ahead curve is a forecast: it is not aged.
                stale_after_s=self.stale_after_s if market is PriceMarket.REAL_TIME else None,
            )
            for name, market, url, interval_s in reports
            if url is not None
        ]


class PriceUrlConfig(Strict):
    """Any URL serving the generic CSV/JSON price shape (docs/signals.md)."""

    url: Url
    market: PriceMarket = PriceMarket.REAL_TIME
    interval_s: _Interval = 60.0
    timeout_s: Timeout = 10.0
    stale_after_s: _Age | None = 1800.0
    bearer_token: SecretConfig | None = None


_Blocks = Annotated[int, Field(ge=1, le=2016)]
_Currency = Literal["USD", "EUR", "GBP", "CAD", "CHF", "AUD", "JPY"]


class MempoolConfig(Strict):
    """A mempool.space-compatible REST API (self-hosted or public)."""

    url: Url = "https://mempool.space"
    blocks: _Blocks = 144  # fees averaged over the last day of blocks
    currency: _Currency = "USD"


class BitcoindConfig(Strict):
    """A bitcoind node's JSON-RPC, plus a BTC price URL answering /api/v1/prices' shape."""

    url: Url = "http://127.0.0.1:8332"
    cookie_file: str | None = None  # e.g. ~/.bitcoin/.cookie (read at each poll)
    user: str | None = None
    password: SecretConfig | None = None
    blocks: _Blocks = 144
    price_url: Url
    currency: _Currency = "USD"

    @model_validator(mode="after")
    def _auth(self) -> Self:
        if self.cookie_file is not None and self.user is not None:
            raise ValueError("give cookie_file or user (with password), not both")
        if (self.user is None) != (self.password is None):
            raise ValueError("user and password go together")
        return self


class HashpriceUrlConfig(Strict):
    """A URL that gives the hashprice itself (docs/signals.md)."""

    url: Url
    bearer_token: SecretConfig | None = None


class HashpriceConfig(Strict):
    mempool: MempoolConfig | None = None
    bitcoind: BitcoindConfig | None = None
    url: HashpriceUrlConfig | None = None
    interval_s: _Interval = 600.0  # a block every ten minutes on average
    timeout_s: Timeout = 10.0
    stale_after_s: _Age = 6 * 3600.0

    @model_validator(mode="after")
    def _one(self) -> Self:
        if sum(x is not None for x in (self.mempool, self.bitcoind, self.url)) != 1:
            raise ValueError("give exactly one of mempool, bitcoind, url")
        return self


class RelayConfig(Strict):
    """A relay contact on a Modbus coil or discrete input (the site meter or an I/O module)."""

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 502
    unit_id: Annotated[int, Field(ge=0, le=255)] = 1
    input: Literal["discrete_input", "coil"] = "discrete_input"
    address: Annotated[int, Field(ge=0, le=65535)] = 0
    tripped_when: bool = True  # the bit value that means tripped (False: normally closed)
    interval_s: Annotated[float, Field(gt=0, le=0.5)] = 0.25  # at least twice a second
    timeout_s: Annotated[float, Field(gt=0, le=5)] = 0.4
    stale_after_s: _Age = 5.0


class FourCpConfig(Strict):
    """A provider's 15-minute 4CP peak flags as JSON (docs/signals.md)."""

    url: Url
    bearer_token: SecretConfig | None = None
    interval_s: _Interval = 300.0
    timeout_s: Timeout = 10.0
    stale_after_s: _Age = 3600.0


class OpenAdrConfig(Strict):
    """An OpenADR 2.0b VEN (openleadr) registered with the utility's or aggregator's VTN."""

    vtn_url: Url  # with the VTN's path prefix, e.g. .../OpenADR2/Simple/2.0b
    ven_name: Annotated[str, Field(min_length=1, max_length=100)]
    simple_levels_kw: dict[Annotated[int, Field(ge=1, le=3)], Annotated[float, Field(ge=0)]] = (
        Field(default_factory=dict)
    )  # SIMPLE level -> the most the site may draw, kW
    offset_levels_kw: dict[Annotated[int, Field(ge=1, le=100)], Annotated[float, Field(ge=0)]] = (
        Field(default_factory=dict)
    )  # LOAD_CONTROL x-loadControlLevelOffset step -> kW
    capacity_kw: Annotated[float, Field(gt=0)] | None = None  # x-loadControlCapacity 1.0
    floor_kw: Annotated[float, Field(ge=0)] = 0.0  # below this the VEN opts out
    resource_id: Annotated[str, Field(min_length=1, max_length=100)] = "site"
    report_interval_s: Annotated[float, Field(ge=1, le=3600)] = 10.0
    stale_after_s: _Age = 300.0
    retry_s: Annotated[float, Field(gt=0, le=3600)] = 30.0


class WebhookConfig(Strict):
    """One curtailment provider's webhook: its shared secret and replay window."""

    secret: SecretConfig
    window_s: Annotated[float, Field(gt=0, le=3600)] = 300.0  # Stripe's default tolerance


class SignalsConfig(Strict):
    ercot: ErcotConfig | None = None
    price_url: PriceUrlConfig | None = None
    hashprice: HashpriceConfig | None = None
    relay: RelayConfig | None = None
    four_cp: FourCpConfig | None = None
    openadr: OpenAdrConfig | None = None
    webhooks: dict[Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,40}$")], WebhookConfig] = Field(
        default_factory=dict
    )


def build_webhooks(config: SignalsConfig) -> list[Provider]:
    return [
        Provider(name, hook.secret.resolve(f"signals.webhooks.{name}.secret"), hook.window_s)
        for name, hook in sorted(config.webhooks.items())
    ]


def _hashprice_source(config: HashpriceConfig, clock: Clock) -> Source:
    common = {
        "interval_s": config.interval_s,
        "timeout_s": config.timeout_s,
        "stale_after_s": config.stale_after_s,
    }
    if config.mempool is not None:
        m = config.mempool
        return MempoolHashprice(
            "hashprice_mempool", clock, url=m.url, blocks=m.blocks, currency=m.currency, **common
        )
    if config.bitcoind is not None:
        b = config.bitcoind
        password = (
            None
            if b.password is None
            else b.password.resolve("signals.hashprice.bitcoind.password")
        )
        cookie = None if b.cookie_file is None else os.path.expanduser(b.cookie_file)
        return BitcoindHashprice(
            "hashprice_bitcoind",
            clock,
            url=b.url,
            cookie_file=cookie,
            user=b.user,
            password=password,
            blocks=b.blocks,
            price_url=b.price_url,
            currency=b.currency,
            **common,
        )
    assert config.url is not None
    token = token_provider(config.url.bearer_token, "signals.hashprice.url.bearer_token")
    return HashpriceUrl(
        "hashprice_url", clock, url=config.url.url, headers={}, token=token, **common
    )


def build_sources(
    config: SignalsConfig, clock: Clock, site_kw: Callable[[], float | None] = lambda: None
) -> list[Source]:
    """``site_kw``: the metered site power, which the OpenADR VEN reports to its VTN."""
    sources: list[Source] = []
    if config.ercot is not None:
        sources.extend(config.ercot.sources(clock))
    if (feed := config.price_url) is not None:
        sources.append(
            PriceFeed(
                "price_url",
                clock,
                feed.market,
                url=feed.url,
                headers={},
                token=token_provider(feed.bearer_token, "signals.price_url.bearer_token"),
                interval_s=feed.interval_s,
                timeout_s=feed.timeout_s,
                stale_after_s=feed.stale_after_s if feed.market is PriceMarket.REAL_TIME else None,
            )
        )
    if config.hashprice is not None:
        sources.append(_hashprice_source(config.hashprice, clock))
    if (four_cp := config.four_cp) is not None:
        sources.append(
            FourCpSource(
                "four_cp",
                clock,
                url=four_cp.url,
                headers={},
                token=token_provider(four_cp.bearer_token, "signals.four_cp.bearer_token"),
                interval_s=four_cp.interval_s,
                timeout_s=four_cp.timeout_s,
                stale_after_s=four_cp.stale_after_s,
            )
        )
    if config.openadr is not None:
        settings = VenSettings(**config.openadr.model_dump())
        sources.append(OpenAdrVen("openadr", clock, settings, site_kw=site_kw))
    if (relay := config.relay) is not None:
        contact = RelayContact(
            relay.host,
            port=relay.port,
            unit_id=relay.unit_id,
            coil=relay.input == "coil",
            address=relay.address,
            tripped_when=relay.tripped_when,
            timeout_s=relay.timeout_s,
        )
        sources.append(
            RelaySource(
                "relay",
                clock,
                contact,
                interval_s=relay.interval_s,
                stale_after_s=relay.stale_after_s,
            )
        )
    return sources

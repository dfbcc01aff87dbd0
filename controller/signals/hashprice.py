"""Hashprice from the network: difficulty, block subsidy, recent fees and the BTC price.

Three ways in, each pointed at any server (a self-hosted one included):

- a mempool.space-compatible REST API: ``/api/v1/mining/hashrate/3d`` (currentDifficulty),
  ``/api/blocks/tip/height``, ``/api/v1/mining/reward-stats/{n}`` (fees over the last n
  blocks, in sats) and ``/api/v1/prices`` (``-1`` means no price);
- a bitcoind node over JSON-RPC (``getmininginfo``, ``getblockstats``; cookie or
  user/password), with the BTC price from a configured URL answering the /api/v1/prices
  shape;
- a URL that gives the hashprice itself (docs/signals.md).

The formula is docs/domain.md's (controller.policy.Hashprice.from_network); the subsidy halves
every 210,000 blocks from 50 BTC.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Unpack

import aiohttp
from pydantic import ValidationError

from controller import policy
from controller.clock import Clock
from controller.signals._json import Lenient, malformed
from controller.signals.errors import BadSignal, ErrorKind, UpstreamError
from controller.signals.source import Cadence, PollingSource, Upstream, UrlSource, fetch
from controller.signals.updates import HashpriceUpdate, Update

__all__ = [
    "BitcoindHashprice",
    "HashpriceUrl",
    "MempoolHashprice",
    "parse_block_stats",
    "parse_difficulty",
    "parse_hashprice_doc",
    "parse_mining_info",
    "parse_prices",
    "parse_reward_stats",
    "parse_rpc",
    "parse_tip_height",
    "subsidy_sats",
]

_SATS = 100_000_000
_UNITS = {"usd/ph/day": 1.0, "usd/th/day": 1000.0, "usd/eh/day": 1e-3}


def subsidy_sats(height: int) -> int:
    halvings = height // 210_000
    return 0 if halvings >= 64 else (50 * _SATS) >> halvings


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise BadSignal(f"{what}: not JSON", ErrorKind.MALFORMED) from None


def _number(value: Any, what: str, lo: float, hi: float) -> float:
    """A JSON number (or a numeric string: mempool sends big sums as strings) in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadSignal(f"{what}: not a number", ErrorKind.MALFORMED)
    try:
        number = float(value)
    except ValueError:
        raise BadSignal(f"{what}: not a number", ErrorKind.MALFORMED) from None
    if not (math.isfinite(number) and lo <= number <= hi):
        raise BadSignal(f"{what} {number!r} outside [{lo:g}, {hi:g}]", ErrorKind.ABSURD)
    return number


def _field(doc: Any, key: str, what: str) -> Any:
    if not isinstance(doc, dict) or key not in doc:
        raise BadSignal(f"{what}: no {key}", ErrorKind.MALFORMED)
    return doc[key]


def parse_difficulty(body: bytes) -> float:
    doc = _json(body, "hashrate")
    return _number(_field(doc, "currentDifficulty", "hashrate"), "difficulty", 1.0, 1e20)


def parse_tip_height(body: bytes) -> int:
    text = body.decode("ascii", errors="replace").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise BadSignal("tip height: not a block height", ErrorKind.MALFORMED)
    return int(text)


def parse_reward_stats(body: bytes) -> float:
    """Mean fees per block, in sats."""
    doc = _json(body, "reward-stats")
    first = _number(_field(doc, "startBlock", "reward-stats"), "startBlock", 0, 1e8)
    last = _number(_field(doc, "endBlock", "reward-stats"), "endBlock", 0, 1e8)
    fees = _number(_field(doc, "totalFee", "reward-stats"), "totalFee", 0, 21e6 * _SATS)
    blocks = last - first + 1
    if blocks < 1:
        raise BadSignal("reward-stats: endBlock before startBlock", ErrorKind.MALFORMED)
    return fees / blocks


def parse_prices(body: bytes, currency: str = "USD") -> tuple[float, float | None]:
    """(BTC price, its time if given)."""
    doc = _json(body, "prices")
    price = _field(doc, currency, "prices")
    if price == -1:
        raise UpstreamError(f"prices: no {currency} price (-1)")
    value = _number(price, f"BTC price in {currency}", 1.0, 1e8)
    at = doc.get("time")
    return value, (_number(at, "price time", 1e9, 1e11) if at is not None else None)


def parse_rpc(body: bytes, request_id: int) -> Any:
    doc = _json(body, "JSON-RPC")
    if not isinstance(doc, dict) or doc.get("id") != request_id:
        raise BadSignal("JSON-RPC: not the answer to our request", ErrorKind.MALFORMED)
    error = doc.get("error")
    if error is not None:
        message = error.get("message") if isinstance(error, dict) else error
        raise UpstreamError(f"JSON-RPC error: {str(message)[:200]}")
    if "result" not in doc:
        raise BadSignal("JSON-RPC: no result", ErrorKind.MALFORMED)
    return doc["result"]


def parse_mining_info(result: Any) -> tuple[int, float]:
    """(blocks, difficulty) from getmininginfo."""
    height = int(_number(_field(result, "blocks", "getmininginfo"), "height", 0, 1e8))
    difficulty = _number(_field(result, "difficulty", "getmininginfo"), "difficulty", 1e-9, 1e20)
    return height, difficulty


def parse_block_stats(result: Any) -> tuple[float, float, float]:
    """(subsidy, total fee, time) of one block from getblockstats; amounts in sats."""
    subsidy = _number(_field(result, "subsidy", "getblockstats"), "subsidy", 0, 50 * _SATS)
    fee = _number(_field(result, "totalfee", "getblockstats"), "totalfee", 0, 21e6 * _SATS)
    at = _number(_field(result, "time", "getblockstats"), "block time", 1.2e9, 1e11)
    return subsidy, fee, at


class _HashpriceDoc(Lenient):
    hashprice: float
    unit: str = "USD/PH/day"
    as_of: float | datetime | None = None


def parse_hashprice_doc(body: bytes) -> tuple[float, float | None]:
    """``{"hashprice": 48.2, "unit": "USD/PH/day", "as_of": "2026-01-01T00:00:00Z"}``."""
    try:
        doc = _HashpriceDoc.model_validate_json(body)
    except ValidationError as exc:
        raise malformed("hashprice", exc) from None
    scale = _UNITS.get(doc.unit.strip().lower())
    if scale is None:
        raise BadSignal(
            f"hashprice unit {doc.unit[:20]!r} is not USD/PH/day, USD/TH/day or USD/EH/day",
            ErrorKind.UNITS,
        )
    value = doc.hashprice * scale
    if not math.isfinite(value):
        raise BadSignal("hashprice is not a number", ErrorKind.MALFORMED)
    at = doc.as_of
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise BadSignal("as_of without a UTC offset", ErrorKind.MALFORMED)
        return value, at.timestamp()
    if at is not None and not math.isfinite(at):
        raise BadSignal("as_of is not a time", ErrorKind.MALFORMED)
    return value, at


def _update(
    name: str,
    origin: float,
    difficulty: float,
    height: int,
    subsidy: float,
    fees: float,
    btc_usd: float,
) -> HashpriceUpdate:
    try:
        hashprice = policy.Hashprice.from_network(
            difficulty=difficulty,
            subsidy_btc=subsidy / _SATS,
            mean_fees_btc=fees / _SATS,
            btc_usd=btc_usd,
            as_of=origin,
            source=name,
        )
    except policy.InvalidEconomics as exc:
        raise BadSignal(str(exc), ErrorKind.ABSURD) from None
    detail = (
        ("difficulty", difficulty),
        ("height", float(height)),
        ("subsidy_sats", subsidy),
        ("mean_fees_sats", fees),
        ("btc_usd", btc_usd),
    )
    return HashpriceUpdate(
        source=name, origin_at=origin, usd_per_ph_day=hashprice.usd_per_ph_day, detail=detail
    )


class MempoolHashprice(PollingSource):
    def __init__(
        self,
        name: str,
        clock: Clock,
        *,
        url: str,
        blocks: int,
        currency: str,
        **cadence: Unpack[Cadence],
    ) -> None:
        super().__init__(name, clock, **cadence)
        self.url = url.rstrip("/")
        self.blocks = blocks
        self.currency = currency

    async def _get(self, path: str) -> bytes:
        return await fetch(self.session, f"{self.url}{path}", timeout_s=self.timeout_s)

    async def poll(self) -> Sequence[Update]:
        difficulty = parse_difficulty(await self._get("/api/v1/mining/hashrate/3d"))
        height = parse_tip_height(await self._get("/api/blocks/tip/height"))
        fees = parse_reward_stats(await self._get(f"/api/v1/mining/reward-stats/{self.blocks}"))
        price, price_at = parse_prices(await self._get("/api/v1/prices"), self.currency)
        now = self.clock.time()
        origin = now if price_at is None else min(now, price_at)
        return [_update(self.name, origin, difficulty, height, subsidy_sats(height), fees, price)]


class BitcoindHashprice(PollingSource):
    """bitcoind JSON-RPC; the cookie file is read at each poll (the node rewrites it)."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        *,
        url: str,
        cookie_file: str | None,
        user: str | None,
        password: str | None,
        blocks: int,
        price_url: str,
        currency: str,
        **cadence: Unpack[Cadence],
    ) -> None:
        super().__init__(name, clock, **cadence)
        self.url = url
        self.cookie_file = cookie_file
        self.user, self.password = user, password
        self.blocks = blocks
        self.price_url = price_url
        self.currency = currency
        self._id = 0

    def _auth(self) -> dict[str, str]:
        if self.cookie_file is not None:
            try:
                text = Path(self.cookie_file).read_text(encoding="ascii").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise UpstreamError(f"RPC cookie {self.cookie_file}: {exc}") from None
            user, sep, password = text.partition(":")
            if not sep:
                raise UpstreamError(f"RPC cookie {self.cookie_file} is not user:password")
            return {"Authorization": aiohttp.encode_basic_auth(user, password)}
        if self.user is not None:
            return {"Authorization": aiohttp.encode_basic_auth(self.user, self.password or "")}
        return {}

    async def _call(self, method: str, *params: Any) -> Any:
        self._id += 1
        body = {"jsonrpc": "1.0", "id": self._id, "method": method, "params": list(params)}
        answer = await fetch(
            self.session,
            self.url,
            timeout_s=self.timeout_s,
            method="POST",
            json_body=body,
            headers=self._auth(),
        )
        return parse_rpc(answer, self._id)

    async def poll(self) -> Sequence[Update]:
        height, difficulty = parse_mining_info(await self._call("getmininginfo"))
        fees, subsidy, oldest = 0.0, 0.0, math.inf
        count = max(1, min(self.blocks, height + 1))
        for offset in range(count):
            stats = await self._call(
                "getblockstats", height - offset, ["subsidy", "totalfee", "time"]
            )
            block_subsidy, fee, at = parse_block_stats(stats)
            if offset == 0:
                subsidy = block_subsidy
            fees += fee
            oldest = min(oldest, at)
        price_body = await fetch(self.session, self.price_url, timeout_s=self.timeout_s)
        price, price_at = parse_prices(price_body, self.currency)
        now = self.clock.time()
        origin = now if price_at is None else min(now, price_at)
        return [_update(self.name, origin, difficulty, height, subsidy, fees / count, price)]


class HashpriceUrl(UrlSource):
    def __init__(self, name: str, clock: Clock, **upstream: Unpack[Upstream]) -> None:
        super().__init__(name, clock, **upstream)
        self._last: float | None = None

    async def poll(self) -> Sequence[Update]:
        body = await self.get()
        value, at = parse_hashprice_doc(body)
        origin = self.clock.time() if at is None else at
        if at is not None and at == self._last:
            return []  # the same published value again: not news
        self._last = at
        return [HashpriceUpdate(source=self.name, origin_at=origin, usd_per_ph_day=value)]

"""Hashprice from mempool.space's REST API, a bitcoind node and a direct URL, served by
local servers speaking those protocols with recorded-shape replies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.policy import Hashprice
from controller.signals.errors import SignalError
from controller.signals.hashprice import (
    BitcoindHashprice,
    HashpriceUrl,
    MempoolHashprice,
    parse_block_stats,
    parse_difficulty,
    parse_hashprice_doc,
    parse_mining_info,
    parse_prices,
    parse_reward_stats,
    parse_rpc,
    parse_tip_height,
    subsidy_sats,
)
from controller.signals.updates import HashpriceUpdate
from tests.signals.bitcoin_servers import BitcoindServer, MempoolServer
from tests.signals.conftest import BY_HAND, FakeClock, Sink
from tests.signals.local_server import LocalServer

EXPECTED = 24.18  # $/PH/day from the recorded replies (docs/domain.md: $23.9 published, Jan 2026)


def test_subsidy_halvings() -> None:
    assert subsidy_sats(0) == 5_000_000_000
    assert subsidy_sats(839_999) == 625_000_000
    assert subsidy_sats(840_000) == 312_500_000
    assert subsidy_sats(1_050_000) == 156_250_000
    assert subsidy_sats(64 * 210_000) == 0


def test_the_worked_check_from_the_reference() -> None:
    value = Hashprice.from_network(
        difficulty=1e14, subsidy_btc=3.125, mean_fees_btc=0, btc_usd=100_000, as_of=0, source="t"
    )
    assert value.usd_per_ph_day == pytest.approx(62.9, abs=0.05)


def mempool(server: MempoolServer, clock: FakeClock, **overrides: Any) -> MempoolHashprice:
    every: dict[str, Any] = {"interval_s": 600, "timeout_s": 1, "stale_after_s": 3600}
    return MempoolHashprice(
        "hashprice_mempool",
        clock,
        url=server.base,
        blocks=144,
        currency="USD",
        **(every | overrides),
    )


def bitcoind(
    node: BitcoindServer, prices: MempoolServer, *, blocks: int, **auth: Any
) -> BitcoindHashprice:
    """``auth``: cookie_file, or user and password."""
    return BitcoindHashprice(
        "hashprice_bitcoind",
        FakeClock(1_767_226_000.0),
        url=node.base + "/",
        cookie_file=auth.get("cookie_file"),
        user=auth.get("user"),
        password=auth.get("password"),
        blocks=blocks,
        price_url=f"{prices.base}/api/v1/prices",
        currency="USD",
        interval_s=600,
        timeout_s=1,
        stale_after_s=3600,
    )


async def test_mempool_api() -> None:
    async with MempoolServer() as server:
        source = mempool(server, FakeClock(1_767_226_000.0))
        sink = Sink(HashpriceUpdate)
        await source.poll_once(sink)
        server.prices = {**server.prices, "USD": -1}  # mempool's "no price"
        await source.poll_once(sink)
        await source.stop()
    [update] = sink.updates
    assert update.usd_per_ph_day == pytest.approx(EXPECTED, abs=0.01)
    assert update.origin_at == 1_767_225_600  # the price's time: the oldest input
    assert dict(update.detail)["subsidy_sats"] == 312_500_000
    assert [e.kind.value for e in sink.errors] == ["upstream"]


@pytest.mark.parametrize("fault", ["refuse", "stall", "garbage"])
async def test_mempool_failures_are_counted_and_back_off(fault: str) -> None:
    async with MempoolServer() as server:
        server.fault = fault
        source = mempool(server, FakeClock(), interval_s=5, timeout_s=0.3)
        sink = Sink(HashpriceUpdate)
        await source.poll_once(sink)
        await source.poll_once(sink)
        assert source.delay_s() == 20
        assert len(sink.errors) == 2
        assert not sink.updates
        server.fault = None
        await source.poll_once(sink)
        await source.stop()
    assert len(sink.updates) == 1


async def test_bitcoind_with_a_cookie_file(tmp_path: Path) -> None:
    cookie = tmp_path / ".cookie"
    secret = "4f" * 32
    cookie.write_text(f"__cookie__:{secret}", encoding="ascii")
    async with BitcoindServer("__cookie__", secret) as node, MempoolServer() as prices:
        source = bitcoind(node, prices, blocks=3, cookie_file=str(cookie))
        sink = Sink(HashpriceUpdate)
        await source.poll_once(sink)
        cookie.write_text("__cookie__:" + "00" * 32, encoding="ascii")  # the node restarted
        await source.poll_once(sink)
        await source.stop()
    [update] = sink.updates
    assert update.usd_per_ph_day == pytest.approx(EXPECTED, abs=0.01)
    assert node.calls == ["getmininginfo", "getblockstats", "getblockstats", "getblockstats"]
    assert [e.kind.value for e in sink.errors] == ["upstream"]  # 401 with the old cookie


async def test_bitcoind_user_password() -> None:
    async with BitcoindServer("rpc", "pw") as node, MempoolServer() as prices:
        source = bitcoind(node, prices, blocks=1, user="rpc", password="pw")
        sink = Sink(HashpriceUpdate)
        await source.poll_once(sink)
        await source.stop()
    assert len(sink.updates) == 1
    assert not sink.errors


async def test_direct_url_with_units() -> None:
    docs = [
        {"hashprice": 0.0482, "unit": "USD/TH/day", "as_of": "2026-01-01T00:00:00Z"},
        {"hashprice": 0.0482, "unit": "USD/TH/day", "as_of": "2026-01-01T00:00:00Z"},
        {"hashprice": 48.2, "unit": "BTC/PH/day"},
    ]

    async def serve(_: web.Request) -> web.Response:
        return web.json_response(docs.pop(0))

    sink = Sink(HashpriceUpdate)
    async with LocalServer(routes=[web.get("/hp", serve)]) as server:
        source = HashpriceUrl("hu", FakeClock(), url=f"{server.base}/hp", headers={}, **BY_HAND)
        for _ in range(3):
            await source.poll_once(sink)
        await source.stop()
    [update] = sink.updates  # the second is the same publication: not news
    assert update.usd_per_ph_day == pytest.approx(48.2)
    assert [e.kind.value for e in sink.errors] == ["units"]


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "currentDifficulty",
                    "startBlock",
                    "endBlock",
                    "totalFee",
                    "USD",
                    "time",
                    "id",
                    "result",
                    "error",
                    "blocks",
                    "difficulty",
                    "subsidy",
                    "totalfee",
                    "hashprice",
                    "unit",
                    "as_of",
                    "message",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=12,
)
_BODIES = st.one_of(st.binary(max_size=200), _JSONISH.map(lambda v: json.dumps(v).encode()))


@settings(max_examples=300, deadline=None)
@given(_BODIES, _JSONISH)
def test_fuzz_every_hashprice_parser_only_raises_signal_errors(body: bytes, value: object) -> None:
    parsers = [
        parse_difficulty,
        parse_tip_height,
        parse_reward_stats,
        parse_prices,
        lambda b: parse_rpc(b, 1),
        parse_hashprice_doc,
    ]
    results = []
    for parse in parsers:
        try:
            results.append(parse(body))  # type: ignore[operator]
        except SignalError as exc:
            results.append(exc.kind)
    for parse_result in (parse_mining_info, parse_block_stats):
        try:
            results.append(parse_result(value))
        except SignalError as exc:
            results.append(exc.kind)
    assert len(results) == 8

"""The ERCOT source's token: asked for on every poll, renewed before it expires and after a
401, from ERCOT's sign-in (a local B2C stand-in), a token file or a fixed token. Time is a
ManualClock: hours of token lifetime pass without waiting."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from controller.clock import ManualClock
from controller.journal.store import Journal
from controller.service.control import ControlService
from controller.signals.errors import ErrorKind
from controller.signals.hub import SignalHub
from controller.signals.metrics import SignalCollector
from controller.signals.prices import ErcotPrices
from controller.signals.signin import ErcotSignIn, SignInSettings
from controller.signals.tokens import StaticToken, TokenFile, TokenProvider
from controller.signals.updates import PriceMarket, PriceUpdate
from controller.state.control import ControlState
from controller.state.fleet import Fleet
from tests.signals.b2c_server import PASSWORD, USERNAME, B2CServer
from tests.signals.conftest import Sink
from tests.signals.ercot_server import ErcotServer, utc

HOST = "127.171.0.1"
START = utc("2023-08-16T05:20:00")  # real LZ_WEST prices around it (tests/signals/test_ercot.py)
RT_PATH = "/np6-905-cd/spp_node_zone_hub"


@dataclass
class Rig:
    clock: ManualClock
    b2c: B2CServer
    ercot: ErcotServer

    def sign_in(self, **changes: float) -> ErcotSignIn:
        settings = SignInSettings(username=USERNAME, token_url=self.b2c.url, **changes)  # type: ignore[arg-type]
        return ErcotSignIn(self.clock, settings, lambda: PASSWORD)

    def source(self, token: TokenProvider | None) -> ErcotPrices:
        self.ercot.rt_published_until = self.clock.time()
        return ErcotPrices(
            "ercot_rt",
            self.clock,
            PriceMarket.REAL_TIME,
            settlement_point="LZ_WEST",
            url=self.ercot.base + RT_PATH,
            headers={"Ocp-Apim-Subscription-Key": "k"},
            token=token,
            interval_s=60,
            timeout_s=0.5,
            stale_after_s=1800,
        )

    async def tick(self, seconds: float = 60) -> None:
        """Time passes, and the ERCOT stand-in publishes what settled meanwhile."""
        await self.clock.advance(seconds)
        self.ercot.rt_published_until = self.clock.time()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    clock = ManualClock(START)
    async with B2CServer(clock, HOST) as b2c, ErcotServer(HOST) as ercot:
        ercot.authorize = b2c.valid
        yield Rig(clock, b2c, ercot)


@asynccontextmanager
async def hub_on(clock: ManualClock) -> AsyncIterator[SignalHub]:
    """The real hub and command service, on the test's clock."""
    journal = Journal(None)
    await journal.open()
    service = ControlService(
        Fleet("t"), ControlState.empty(), journal, trigger=lambda _: None, clock=clock
    )
    hub = SignalHub(service, clock)
    try:
        yield hub
    finally:
        await hub.close()
        await journal.close()


def metrics(hub: SignalHub) -> str:
    registry = CollectorRegistry()
    registry.register(SignalCollector(hub, site="t"))
    return generate_latest(registry).decode()


async def test_prices_keep_coming_across_token_expiries(rig: Rig) -> None:
    sign_in = rig.sign_in()
    source = rig.source(sign_in)
    sink = Sink(PriceUpdate)
    await source.poll_once(sink)
    for _ in range(180):  # three hours, a poll a minute: three token lifetimes
        await rig.tick()
        await source.poll_once(sink)
    await source.stop()
    assert not sink.errors
    assert rig.ercot.unauthorized == 0  # renewed before expiry, never after a refusal
    # Signed in at 05:20, then 5 minutes before each hour's token expires.
    assert rig.b2c.sign_ins == sign_in.sign_ins == 4
    ends = [u.intervals[-1].end for u in sink.updates]
    assert ends[1:] == [ends[0] + 900 * k for k in range(1, 13)]  # every quarter hour, no gap
    prices = [u.intervals[-1].usd_per_mwh for u in sink.updates[:2]]
    assert prices == [89.49, 32.08]  # the real 05:00Z and 05:15Z prices
    form = rig.b2c.forms[0]
    assert form["grant_type"] == "password"
    assert form["response_type"] == "id_token"
    assert form["scope"] == f"openid {form['client_id']} offline_access"
    assert (form["username"], form["password"]) == (USERNAME, PASSWORD)


async def test_a_401_renews_the_token_and_retries_the_request_once(rig: Rig) -> None:
    source = rig.source(rig.sign_in())
    sink = Sink(PriceUpdate)
    await source.poll_once(sink)
    rig.b2c.revoke_all()  # ERCOT no longer takes the token we hold, long before it expires
    await rig.tick(900)
    await source.poll_once(sink)
    await source.stop()
    assert not sink.errors
    assert len(sink.updates) == 2
    assert rig.ercot.unauthorized == 1
    assert rig.b2c.sign_ins == 2


async def test_two_sources_share_one_sign_in(rig: Rig) -> None:
    sign_in = rig.sign_in()
    real_time, other = rig.source(sign_in), rig.source(sign_in)
    sink = Sink(PriceUpdate)
    for _ in range(2):
        await real_time.poll_once(sink)
        await other.poll_once(sink)
        await rig.tick(3600)
    rig.b2c.revoke_all()
    await real_time.poll_once(sink)  # 401: signs in again
    await other.poll_once(sink)  # uses that token, no sign-in of its own
    await real_time.stop()
    await other.stop()
    assert not sink.errors
    assert rig.b2c.sign_ins == 3


async def test_a_token_refused_even_when_fresh_is_a_counted_auth_error(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.ercot.authorize = lambda _: False  # e.g. the account lacks the API subscription
    source = rig.source(rig.sign_in())
    async with hub_on(rig.clock) as hub:
        with caplog.at_level(logging.WARNING):
            await source.poll_once(hub)
        await source.stop()
        assert hub.stats["ercot_rt"].errors == {ErrorKind.AUTH: 1}
        text = metrics(hub)
    assert rig.ercot.unauthorized == 2  # the request, and its one retry with a fresh token
    assert rig.b2c.sign_ins == 2
    assert 'hashpivot_signal_errors_total{kind="auth",site="t",source="ercot_rt"} 1.0' in text
    assert "HTTP 401 to a fresh token too" in caplog.text


SIGN_IN_FAULTS = [
    ("refuse", ErrorKind.AUTH, "refused: HTTP 400 'invalid_grant: AADB2C90225"),
    ("unauthorized", ErrorKind.AUTH, "refused: HTTP 401 'invalid_grant: AADB2C90225"),
    ("echo", ErrorKind.AUTH, "password <password> is invalid"),
    ("stall", ErrorKind.UPSTREAM, "no answer within 0.3 s"),
    ("garbage", ErrorKind.MALFORMED, "token reply"),
]


@pytest.mark.parametrize(("fault", "kind", "said"), SIGN_IN_FAULTS)
async def test_a_failed_sign_in_is_typed_logged_counted_and_hides_the_password(
    rig: Rig, caplog: pytest.LogCaptureFixture, fault: str, kind: ErrorKind, said: str
) -> None:
    source = rig.source(rig.sign_in(timeout_s=0.3))
    async with hub_on(rig.clock) as hub:
        hub.add(source)
        await source.poll_once(hub)  # signed in: a price
        assert hub.service.state.price is not None
        rig.b2c.fault = fault
        with caplog.at_level(logging.DEBUG):
            for _ in range(3):  # the token holds at +30 min, then must be renewed
                await rig.tick(1800)
                await source.poll_once(hub)
        stats = hub.stats["ercot_rt"]
        assert stats.errors == {kind: 2}
        assert f'kind="{kind.value}"' in metrics(hub)
        # The hub goes on: the price, now too old, switches the policy to its safe one.
        hub.check_stale()
        assert "ercot_rt" in hub.service.state.stale_signals
        rig.b2c.fault = None
        await rig.tick(3600)  # past the sign-in's own backoff
        await source.poll_once(hub)
        await source.stop()
        assert stats.updates == 3  # at the start, at +30 min, and once signed in again
    assert said in caplog.text
    assert PASSWORD not in caplog.text
    assert "Zq8" not in caplog.text  # nor a piece of it
    assert rig.ercot.unauthorized == 0


async def test_a_wrong_password_is_not_retried_every_poll(rig: Rig) -> None:
    sign_in = ErcotSignIn(
        rig.clock, SignInSettings(username=USERNAME, token_url=rig.b2c.url), lambda: "wrong"
    )
    source = rig.source(sign_in)
    sink = Sink(PriceUpdate)
    for _ in range(30):  # half an hour of polls a minute
        await source.poll_once(sink)
        await rig.tick()
    await source.stop()
    assert len(sink.errors) == 30
    assert {e.kind for e in sink.errors} == {ErrorKind.AUTH}
    assert len(rig.b2c.forms) == 5  # at 0, 1, 3, 7 and 15 minutes
    assert "next sign-in in 60 s" in str(sink.errors[2])


async def test_a_fixed_token_refused_is_an_auth_error_without_a_retry(rig: Rig) -> None:
    source = rig.source(StaticToken("eyJhbGciOiJub25lIn0.e30.x"))
    sink = Sink(PriceUpdate)
    await source.poll_once(sink)
    await source.stop()
    [error] = sink.errors
    assert error.kind is ErrorKind.AUTH
    assert rig.ercot.unauthorized == 1


async def issued_token(rig: Rig) -> str:
    """A live ID token from the stand-in, as another tool would fetch it."""
    provider = rig.sign_in()
    source = rig.source(provider)
    header = await provider.authorization(source.session)
    await source.stop()
    return header.removeprefix("Bearer ")


async def test_a_token_file_is_read_again_when_it_changes_and_after_a_401(
    rig: Rig, tmp_path: Path
) -> None:
    path = tmp_path / "ercot-id-token"
    path.write_text(await issued_token(rig) + "\n")
    source = rig.source(TokenFile(str(path)))
    sink = Sink(PriceUpdate)
    await source.poll_once(sink)
    # The tool renews the file: a new token is used at once, without a 401.
    rig.b2c.revoke_all()
    replace = tmp_path / "next"
    replace.write_text(await issued_token(rig))
    os.replace(replace, path)
    await rig.tick(900)
    await source.poll_once(sink)
    assert rig.ercot.unauthorized == 0
    # Rewritten in place with the same size and modification time: only the 401 tells.
    stamp = path.stat().st_mtime_ns
    rig.b2c.revoke_all()
    fresh = await issued_token(rig)
    assert len(fresh) == len(path.read_text())
    path.write_text(fresh)
    os.utime(path, ns=(stamp, stamp))
    await rig.tick(900)
    await source.poll_once(sink)
    # A file whose token is refused and not renewed: an auth error, the file named.
    rig.b2c.revoke_all()
    await rig.tick(900)
    await source.poll_once(sink)
    path.unlink()
    await source.poll_once(sink)
    await source.stop()
    assert len(sink.updates) == 3
    assert rig.ercot.unauthorized == 2
    assert [e.kind for e in sink.errors] == [ErrorKind.AUTH, ErrorKind.AUTH]
    assert "no other token to send" in str(sink.errors[0])
    assert re.search(r"token file '.*ercot-id-token': No such file", str(sink.errors[1]))


@pytest.mark.parametrize(
    "text",
    ["", "  \n", "two words", "tok\r\nX-Injected: 1", "é" * 10, "a" * 20_000],
)
def test_a_token_file_with_no_usable_token_is_an_auth_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "token"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Exception) as info:
        TokenFile(str(path)).read()
    assert info.value.kind is ErrorKind.AUTH  # type: ignore[attr-defined]
    assert "X-Injected" not in str(info.value)

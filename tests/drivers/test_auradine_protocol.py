"""Auradine parsers over every captured reply, and the REST token life cycle."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from drivers.auradine import protocol as p
from drivers.auradine.transport import RestTransport
from drivers.cgminer import check_envelope
from drivers.errors import AuthError, ProtocolError
from drivers.settings import Credentials, DriverSettings

H = "10.0.0.9"
CAPTURES = Path(__file__).parent.parent / "fixtures" / "captures" / "auradine" / "v1"
FIXTURES = Path(__file__).parent.parent / "fixtures"
SETTINGS = DriverSettings(connect_timeout_s=0.5, read_timeout_s=0.5)


def cap(name: str) -> Any:
    reply = json.loads((CAPTURES / name).read_text(encoding="utf-8"))
    return check_envelope(H, name, reply)


def test_summary_and_devs_in_mhs() -> None:
    rate, elapsed = p.parse_summary(H, cap("summary.json"))
    assert rate == pytest.approx(20599767.1774699e6)
    assert elapsed == 56696
    boards = p.parse_devs(H, cap("devs.json"))
    assert [b.index for b in boards] == [0, 1, 2]
    assert [b.hashrate_hs for b in boards] == pytest.approx([6.8e12, 6.9e12, 7.0e12])
    assert boards[2].board_temp_c == 30.12


def test_mode_psu_fan() -> None:
    mode = p.parse_mode(H, cap("mode.json"))
    assert mode == p.ModeSetting(mode="custom", sleeping=False, power_w=2000, ths=160)
    assert p.parse_psu(H, cap("psu.json")) == (58.94, 3452.0)
    assert p.parse_fan(H, cap("fan.json")) == (7080, 7020, 7100, 7020)


def test_temperature_led_ipreport_pools() -> None:
    temps = p.parse_temperature(H, cap("temperature.json"))
    assert temps.boards == (41.5, 43.0, 47.5)
    assert temps.chips == pytest.approx((45.827271728515655, 48.220855712890625, 51.41230102539066))
    assert temps.control_board == 24.9375
    assert p.parse_led(H, cap("led.json")) == 2
    ident = p.parse_ipreport(H, cap("ipreport.json"))
    assert (ident.model, ident.firmware, ident.serial) == ("AT1500", "2023-12.27", "AU23200006")
    assert (ident.mac, ident.hostname) == ("1c:00:00:0e:3b:2b", "teraflux-01")
    pools = p.parse_pools(H, cap("pools.json"))
    assert pools[0] == ("stratum+tcp://btc.viabtc.io:3333", "username.suffix")


def test_other_captures_have_valid_envelopes() -> None:
    for name in ("asccount.json", "frequency.json", "voltage.json", "version.json"):
        assert cap(name)["STATUS"][0]["STATUS"] == "S"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("auradine_*.json")), ids=lambda q: q.name)
def test_own_fixtures_parse(path: Path) -> None:
    """``auradine_<model>_<firmware>_<endpoint>.json``."""
    reply = check_envelope(H, path.name, json.loads(path.read_text(encoding="utf-8")))
    endpoint = path.stem.split("_", 3)[3]
    parsers: dict[str, Any] = {
        "mode": p.parse_mode,
        "psu": p.parse_psu,
        "devdetails": p.parse_devdetails,
        "summary": p.parse_summary,
        "ipreport": p.parse_ipreport,
    }
    assert parsers[endpoint](H, reply) is not None


def test_own_fixture_values() -> None:
    def own(name: str) -> Any:
        return check_envelope(H, name, json.loads((FIXTURES / name).read_text()))

    mode = p.parse_mode(H, own("auradine_ah3880_2024-06.11_mode.json"))
    assert (mode.sleeping, mode.power_w) == (True, 8700.0)  # "8700W": units on the limit too
    assert p.parse_psu(H, own("auradine_ah3880_2024-06.11_psu.json")) == (8687.0, 9000.0)
    details = own("auradine_at2880_2024-06.11_devdetails.json")
    assert p.parse_devdetails(H, details) == "AT2880"


def test_units_are_checked() -> None:
    with pytest.raises(ProtocolError):
        p.parse_psu(H, {"PSU": [{"PowerIn": "3.2kV"}]})
    with pytest.raises(ProtocolError):
        p.parse_mode(H, {"Mode": "sleep"})


# REST token life cycle --------------------------------------------------------


class FakeRest:
    """A FluxOS REST API: tokens, expiry on demand, and a request log."""

    def __init__(self) -> None:
        self.logins = 0
        self.valid: set[str] = set()
        self.expire_with = 0  # 401 or "status": how the next request finds the token gone
        self.seen: list[str] = []

    async def token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("password") != "admin":
            return web.Response(status=401)
        self.logins += 1
        tok = f"t{self.logins}"
        self.valid.add(tok)
        return web.json_response({"STATUS": [{"STATUS": "S"}], "Token": [{"Token": tok}]})

    async def mode(self, request: web.Request) -> web.Response:
        tok = request.headers.get("Token", "")
        self.seen.append(tok)
        if self.expire_with:
            how, self.expire_with = self.expire_with, 0
            self.valid.discard(tok)
            if how == 401:
                return web.Response(status=401)
            err = {"STATUS": [{"STATUS": "E", "Msg": "Token expired"}]}
            return web.json_response(err)
        if tok not in self.valid:
            return web.Response(status=401)
        return web.json_response(cap("mode.json"))


@asynccontextmanager
async def rest(fake: FakeRest) -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_post("/token", fake.token)
    app.router.add_get("/mode", fake.mode)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.90.250", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield port
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("expiry", [401, 1])
async def test_token_reused_and_renewed(expiry: int) -> None:
    fake = FakeRest()
    async with rest(fake) as port:
        t = RestTransport("127.0.90.250", port, Credentials("admin", "admin"), SETTINGS)
        try:
            for _ in range(3):
                await t.get("mode")
            assert fake.logins == 1  # one login, reused
            fake.expire_with = expiry
            reply = await t.get("mode")
            assert reply["Mode"][0]["Sleep"] == "off"
            assert fake.logins == 2
        finally:
            await t.close()


async def test_wrong_password_is_auth_error() -> None:
    fake = FakeRest()
    async with rest(fake) as port:
        t = RestTransport("127.0.90.250", port, Credentials("admin", "nope"), SETTINGS)
        try:
            with pytest.raises(AuthError):
                await t.get("mode")
        finally:
            await t.close()

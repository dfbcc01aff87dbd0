"""ERCOT's ID token under the running daemon: prices keep coming from the ERCOT-shaped feed
(the real August 2023 data) while short-lived tokens from a local B2C sign-in expire and
are renewed; a refused sign-in is an ``auth`` error, counted, logged without the password,
and the daemon keeps planning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from controller.clock import SystemClock
from tests.e2e.conftest import SiteFactory
from tests.e2e.helpers import until
from tests.e2e.test_signals import metrics_text, place_real_time
from tests.signals.b2c_server import PASSWORD, USERNAME, B2CServer
from tests.signals.ercot_server import ErcotServer, utc


@pytest.mark.slow
async def test_prices_keep_coming_across_token_expiries_and_a_refused_sign_in_is_counted(
    running_site: SiteFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    password = tmp_path / "ercot-password"
    password.write_text(PASSWORD + "\n")
    async with (
        B2CServer(SystemClock(), "127.171.1.240", lifetime_s=4) as b2c,
        ErcotServer("127.171.1.241") as server,
    ):
        server.authorize = b2c.valid
        shift = place_real_time(server)
        signals = {
            "ercot": {
                "settlement_point": "LZ_WEST",
                "real_time_url": f"{server.base}/np6-905-cd/spp_node_zone_hub",
                "day_ahead_url": None,
                "subscription_key": {"value": "k"},
                "sign_in": {
                    "username": USERNAME,
                    "password": {"file": str(password)},
                    "token_url": b2c.url,
                    "timeout_s": 1,
                },
                "real_time_interval_s": 0.2,
                "timeout_s": 2,
                "stale_after_s": 7200,
            }
        }
        overrides = {"signals": signals, "policy": {"max_price_age_s": 7200}}
        with caplog.at_level(logging.INFO):
            async with running_site("127.171.1", **overrides) as site:
                state, hub = site.controller.state, site.controller.signals
                await until(lambda: state.price is not None, timeout=10)
                # Tokens of 4 s, renewed 2 s before they end: three lifetimes go by.
                await until(lambda: b2c.sign_ins >= 4, timeout=15)
                server.rt_published_until = utc("2023-08-16T05:15:00") + shift
                await until(lambda: state.price.power_price_usd_per_mwh == 89.49, timeout=10)  # type: ignore[union-attr]
                assert server.unauthorized == 0
                assert not hub.stats["ercot_rt"].errors

                b2c.fault = "echo"  # refuses, and writes the password into its refusal
                b2c.revoke_all()
                await until(lambda: sum(hub.stats["ercot_rt"].errors.values()) >= 2, timeout=10)
                view = site.controller.loop.view
                assert view is not None
                await until(lambda: site.controller.loop.view.seq > view.seq + 1, timeout=10)  # type: ignore[union-attr]
                status = await site.api.call("GET", "/status")
                text = await metrics_text(site)
    assert set(status["signals"]["ercot_rt"]["errors"]) == {"auth"}
    assert 'kind="auth"' in text
    assert "sign-in at" in caplog.text
    assert "refused: HTTP 400" in caplog.text
    assert PASSWORD not in caplog.text
    assert PASSWORD not in str(status)

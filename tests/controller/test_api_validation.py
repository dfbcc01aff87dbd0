"""Bad requests to the API are typed, logged (escaped), counted 4xx answers, never a 500:
the cases issue 10 found (PATCH end null, no body, as_of false, active=AAA, 1970)."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import generate_latest

from controller import policy
from controller.app import Controller, exposure_warnings
from controller.config.settings import parse_config
from controller.logs import EscapingFormatter
from controller.service.control import EventInThePast, EventSpec, InvalidRequest
from tests.conftest import free_port
from tests.e2e.helpers import TOKEN, Api, controller_config

# Nothing answers here: the API works without a site (devices are just unreachable).
DEVICE = "127.0.150.1"


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[tuple[Controller, Api]]:
    port = free_port()
    groups = [{"make": "antminer", "start": DEVICE, "count": 1}]
    config = parse_config(controller_config(port, groups, str(tmp_path / "j.sqlite")))
    async with Controller(config) as controller, aiohttp.ClientSession() as session:
        yield controller, Api(session, port)


def refused(controller: Controller) -> dict[str, float]:
    text = generate_latest(controller.metrics.registry).decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("hashpivot_api_requests_refused_total{"):
            status = line.split('status="')[1].split('"')[0]
            out[status] = float(line.rsplit(" ", 1)[1])
    return out


async def test_patch_end_null_is_refused_not_a_500(daemon: tuple[Controller, Api]) -> None:
    controller, api = daemon
    event = await api.call("POST", "/events", {"kind": "instructed", "level_mw": 0.5}, 201)
    path = f"/events/{event['event_id']}"
    assert "end" in (await api.call("PATCH", path, {"end": None}, 422))["error"]
    assert "body" in (await api.call("PATCH", path, None, 422))["error"]  # no body at all
    await api.call("PATCH", path, {}, 422)  # nothing to change
    await api.call("PATCH", path, {"end": False}, 422)
    moved = await api.call("PATCH", path, {"end": event["end"] + 60})
    assert moved["end"] == event["end"] + 60
    await api.call("PATCH", path, {"deadline": None})  # removing the deadline is allowed
    # Below the API (MQTT, signals): the same mistake is a typed error, not a TypeError.
    with pytest.raises(InvalidRequest, match="end"):
        await controller.service.update_event(event["event_id"], {"end": None}, "test")
    assert refused(controller)["422"] >= 4


async def test_events_in_1970_or_the_past_are_refused(daemon: tuple[Controller, Api]) -> None:
    controller, api = daemon
    await api.call(
        "POST", "/events", {"kind": "instructed", "level_mw": 0.5, "start": 10, "end": 20}, 422
    )
    hour_ago = time.time() - 3600
    past = {"kind": "instructed", "level_mw": 0.5, "start": hour_ago, "end": hour_ago + 60}
    answer = await api.call("POST", "/events", past, 409)
    assert "before now" in answer["error"]
    spec = EventSpec(kind=policy.EventKind.INSTRUCTED, level_mw=0.5, start=10.0, end=20.0)
    with pytest.raises(EventInThePast):
        await controller.service.create_event(spec, "test")
    assert controller.state.events == {}
    # Started an hour ago and still running: accepted.
    running = {**past, "end": time.time() + 60}
    await api.call("POST", "/events", running, 201)


async def test_strict_bodies_and_queries(daemon: tuple[Controller, Api]) -> None:
    controller, api = daemon
    as_of_false = {"power_price_usd_per_mwh": 30, "as_of": False}
    assert "as_of" in (await api.call("PUT", "/economics", as_of_false, 422))["error"]
    await api.call("PUT", "/economics", {"power_price_usd_per_mwh": "30"}, 422)
    await api.call("PUT", "/economics", None, 422)
    await api.call("POST", "/events", {"kind": "instructed", "level_mw": True}, 422)
    await api.call("GET", "/events?active=AAA", status=400)
    await api.call("GET", "/journal?limit=%C2%B2", status=400)  # "²" passes str.isdigit()
    assert (await api.call("GET", "/events?active=false"))["events"] == []
    await api.call("POST", "/control/pause", None)  # the one body that may be left out
    counts = refused(controller)
    assert counts["422"] >= 4
    assert counts["400"] >= 2


async def test_user_text_cannot_forge_a_log_line(
    daemon: tuple[Controller, Api], caplog: pytest.LogCaptureFixture
) -> None:
    controller, api = daemon
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(EscapingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.INFO)  # the plan and the refusals log at INFO
    try:
        forged = "ok\nERROR controller.app: forged\x00\x1b[2J"
        await api.call("POST", "/control/pause", {"reason": forged})
        controller.loop.cycle("test")  # the plan's log line quotes the pause reason
        await api.call("GET", "/devices/x%0AERROR%20forged", status=404)
    finally:
        root.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines
    assert not [line for line in lines if line.startswith("ERROR controller.app: forged")]
    assert not [line for line in lines if "\x00" in line or "\x1b" in line]
    assert any("ok\\nERROR controller.app: forged\\0\\x1b[2J" in line for line in lines)
    assert any("x\\nERROR forged" in line and "refused (404)" in line for line in lines)


def test_the_formatter_escapes_the_message_but_keeps_the_traceback() -> None:
    formatter = EscapingFormatter("%(message)s")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "t",
            logging.ERROR,
            __file__,
            1,
            "a %s",
            ("b\nc\u2028d\r",),
            exc_info=__import__("sys").exc_info(),
        )
    text = formatter.format(record)
    first, *rest = text.splitlines()
    assert first == "a b\\nc\\u2028d\\r"
    assert rest[0].startswith("Traceback")
    assert record.getMessage() == "a b\nc\u2028d\r"  # other handlers see the record unchanged


def test_startup_warnings_name_the_exposure() -> None:
    assert exposure_warnings("127.0.0.1", "t") == []
    (no_token,) = exposure_warnings("127.0.0.1", None)
    assert "no API token" in no_token
    for host in ("0.0.0.0", "::", ""):
        warnings = exposure_warnings(host, "t")
        assert len(warnings) == 1
        assert "all interfaces" in warnings[0]
        assert "in clear" in warnings[0]
    assert len(exposure_warnings("0.0.0.0", None)) == 2
    assert exposure_warnings("controller.example", "t") == []


async def test_a_daemon_without_a_token_says_so_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    groups = [{"make": "antminer", "start": DEVICE, "count": 1}]
    config = parse_config(controller_config(port, groups, None, api={"token": None}))
    with caplog.at_level(logging.WARNING, logger="controller.app"):
        async with Controller(config):
            await asyncio.sleep(0.05)  # let the tasks start before they are stopped
    assert any("no API token configured" in r.getMessage() for r in caplog.records)
    assert TOKEN  # the shared helpers' token is what the other tests here use

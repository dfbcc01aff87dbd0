"""The provider webhook: HMAC over timestamp and body, a replay window, idempotent by the
provider's event id; everything refused is counted and no body is ever logged."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller import policy
from controller.signals.webhook import SIGNATURE, TIMESTAMP, Provider, add_webhook_routes, sign
from tests.signals.conftest import HubRig

SECRET = "whsec-test-0123456789"
MARKER = "BODY-MARKER-7f3a"  # must never reach a log line


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str, rig: HubRig) -> None:
        self.session, self.base, self.rig = session, base, rig

    async def post(
        self,
        body: Any,
        *,
        secret: str = SECRET,
        at: float | None = None,
        provider: str = "acme",
        signature: str | None = None,
    ) -> tuple[int, Any]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        stamp = f"{self.rig.clock.time() if at is None else at:.0f}"
        headers = {
            TIMESTAMP: stamp,
            SIGNATURE: signature or sign(secret, stamp, raw),
            "Content-Type": "application/json",
        }
        async with self.session.post(
            f"{self.base}/api/v1/signals/webhook/{provider}", data=raw, headers=headers
        ) as response:
            return response.status, await response.json(content_type=None)


@pytest.fixture
async def client(rig: HubRig) -> AsyncIterator[Client]:
    app = web.Application(client_max_size=64 * 1024)
    add_webhook_routes(app, rig.hub, [Provider("acme", SECRET, 300.0)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    async with aiohttp.ClientSession() as session:
        yield Client(session, f"http://127.0.0.1:{runner.addresses[0][1]}", rig)
    await runner.cleanup()


def create(now: float, **kw: Any) -> dict[str, Any]:
    body = {
        "event_id": "dr-42",
        "sequence": 0,
        "action": "create",
        "level": 400,
        "unit": "kW",
        "start": now + 60,
        "end": now + 3600,
        "deadline": now + 660,
        "note": MARKER,
    }
    body.pop("note")
    body.update(kw)
    return body


def counted(rig: HubRig) -> dict[str, int]:
    return {k.value: n for k, n in rig.hub.stats["webhook_acme"].errors.items()}


async def test_a_signed_event_is_created_updated_and_cancelled(client: Client, rig: HubRig) -> None:
    now = rig.clock.time()
    status, answer = await client.post(create(now))
    assert status == 202
    event = rig.state.events[answer["event_id"]]
    assert event.level_mw == pytest.approx(0.4)
    assert event.kind is policy.EventKind.INSTRUCTED
    assert event.deadline == now + 660
    assert (await client.post(create(now)))[0] == 200  # the same delivery: no change
    assert (await client.post(create(now, sequence=1, level=0.25, unit="MW")))[0] == 202
    assert rig.state.events[answer["event_id"]].level_mw == 0.25
    assert (await client.post({"event_id": "dr-42", "sequence": 2, "action": "cancel"}))[0] == 202
    assert rig.state.events[answer["event_id"]].cancelled_at is not None
    rows = await rig.journal.entries(["event."])
    assert [r.kind for r in rows] == ["event.created", "event.updated", "event.cancelled"]
    assert {r.actor for r in rows} == {"signal:webhook_acme"}
    assert counted(rig) == {"duplicate": 1}


async def test_bad_signatures_and_replays_get_401_counted_and_never_logged(
    client: Client, rig: HubRig, caplog: pytest.LogCaptureFixture
) -> None:
    now = rig.clock.time()
    body = {**create(now), "event_id": MARKER}
    with caplog.at_level(logging.DEBUG):
        assert (await client.post(body, secret="wrong"))[0] == 401
        assert (await client.post(body, signature="sha256=00"))[0] == 401
        assert (await client.post(body, at=now - 301))[0] == 401
        assert (await client.post(body, at=now + 400))[0] == 401
        assert (await client.post(b"not json at all " + MARKER.encode()))[0] == 422
    assert counted(rig) == {"signature": 2, "replay": 2, "malformed": 1}
    assert not rig.state.events
    assert all(MARKER not in r.getMessage() for r in caplog.records)


async def test_rotated_secrets_any_signature_verifies(client: Client, rig: HubRig) -> None:
    now = rig.clock.time()
    raw = json.dumps(create(now)).encode()
    stamp = f"{now:.0f}"
    both = f"{sign('old-secret', stamp, raw)}, {sign(SECRET, stamp, raw)}"
    assert (await client.post(raw, signature=both))[0] == 202


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"unit": "GW"}, "units"),
        ({"level": -5}, "absurd"),
        ({"level": 1e12}, "absurd"),
        ({"deadline": -60.0}, "past_deadline"),
        ({"end": -30.0, "start": -3600.0, "deadline": None}, "past_deadline"),
        ({"action": "explode"}, "malformed"),
        ({"start": "yesterday"}, "malformed"),
    ],
)
async def test_bad_bodies_are_refused_with_their_kind(
    client: Client, rig: HubRig, change: dict[str, Any], kind: str
) -> None:
    now = rig.clock.time()
    body = create(
        now,
        **{
            k: (now + v if k in {"start", "end", "deadline"} and isinstance(v, float) else v)
            for k, v in change.items()
        },
    )
    status, answer = await client.post(body)
    assert status == 422
    assert answer["kind"] == kind
    assert counted(rig) == {kind: 1}


async def test_unknown_provider(client: Client) -> None:
    assert (await client.post({}, provider="nobody"))[0] == 404


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "event_id",
                "sequence",
                "action",
                "kind",
                "level",
                "unit",
                "start",
                "end",
                "deadline",
                "extra",
            ]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=20),
            st.sampled_from(["create", "update", "cancel", "kW", "MW", "4cp", "price"]),
        ),
        max_size=9,
    )
)
async def test_fuzz_signed_bodies_never_break_the_webhook(
    client: Client, rig: HubRig, body: dict[str, Any]
) -> None:
    try:
        raw = json.dumps(body).encode()
    except ValueError:
        return
    status, _ = await client.post(raw)
    assert status in {200, 202, 409, 422}

"""The HTTP API fuzzed against its own OpenAPI document (schemathesis): every answer is
checked against the document (status codes, content types, response schemas), invalid
requests must be refused and valid ones accepted, nothing is a 500, and writes without
the bearer token are refused. A small Antminer site answers behind it.

No test depends on another having run, in any order: each case starts from the same
control state (running, no overrides), each case that names an event gets a fresh one
(so PATCH and DELETE reach the code behind the 404), and every case checks that the
daemon still answers. ``call_and_validate`` runs every schemathesis check, among them
the answer's status, content type and body against the document, and that a request the
document does not allow (an unknown query parameter too) is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.core.parameters import ParameterLocation  # noqa: E402

from controller.app import Controller  # noqa: E402
from controller.config.settings import parse_config  # noqa: E402
from controller.integrations.openapi import openapi_document  # noqa: E402
from simulators import Fleet, load_site_dict  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.e2e.helpers import TOKEN, controller_config  # noqa: E402

schema = schemathesis.openapi.from_dict(openapi_document())
PREFIX = "127.0.118"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The controller and a 4-miner site on their own loop, in a thread (schemathesis is sync)."""
    port = free_port()
    journal: Path = tmp_path_factory.mktemp("fuzz") / "journal.sqlite"
    ready, stop = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    async def serve() -> None:
        site = load_site_dict(
            {
                "site": "fuzz",
                "devices": [
                    {
                        "make": "antminer",
                        "model": "S21",
                        "count": 4,
                        "start": f"{PREFIX}.1",
                        "timings": "instant",
                    }
                ],
            }
        )
        groups = [{"make": "antminer", "start": f"{PREFIX}.1", "count": 4}]
        config = parse_config(controller_config(port, groups, str(journal)))
        async with Fleet(site, speed=50, listen="exact"), Controller(config):
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # surfaced by the fixture below
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=run, name="fuzzed controller", daemon=True)
    thread.start()
    assert ready.wait(30)
    assert not errors, errors
    url = f"http://127.0.0.1:{port}"
    yield url
    status = requests.get(f"{url}/api/v1/status", timeout=10).json()
    assert status["devices"] == 4  # whatever ran against it, the daemon still serves
    stop.set()
    thread.join(30)
    assert not errors, errors


AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEVICES = [f"{PREFIX}.{i}" for i in range(1, 5)]


def fresh_event(base_url: str) -> str:
    body = {"kind": "instructed", "level_mw": 1.0, "end": time.time() + 3600}
    response = requests.post(f"{base_url}/api/v1/events", json=body, headers=AUTH, timeout=10)
    assert response.status_code == 201, response.text
    return str(response.json()["event_id"])


def known_ids(case: schemathesis.Case, base_url: str) -> None:
    """Half the generated ids become real ones, chosen from the generated text (so a
    failure replays the same way): a made-up id only ever meets the 404. An id the
    document does not allow (a negative case) is left as it is: it must be refused."""
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH):
        return
    params = dict(case.path_parameters or {})
    for name, value in params.items():
        digest = hashlib.sha256(str(value).encode()).digest()
        if digest[0] % 2:
            continue
        if name == "event_id":
            params[name] = fresh_event(base_url)
        elif name == "device_id":
            params[name] = DEVICES[digest[1] % len(DEVICES)]
    # Assigned, not changed in place, so that schemathesis knows the case changed.
    case.path_parameters = params


def authorised(case: schemathesis.Case) -> None:
    """The bearer token, unless the case is about headers the document does not allow (a
    missing or malformed Authorization among them): then it must be refused as sent."""
    if case.meta is None or not case.meta.is_negative_at(ParameterLocation.HEADER):
        case.headers = {**(case.headers or {}), **AUTH}


def same_start(base_url: str) -> None:
    """Control running and no override, whatever an earlier case did."""
    requests.post(f"{base_url}/api/v1/control/resume", headers=AUTH, timeout=10)
    for device in DEVICES:
        requests.delete(f"{base_url}/api/v1/overrides/{device}", headers=AUTH, timeout=10)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_every_answer_matches_the_document(case: schemathesis.Case, base_url: str) -> None:
    same_start(base_url)
    known_ids(case, base_url)
    authorised(case)
    case.call_and_validate(base_url=base_url, timeout=10)
    assert requests.get(f"{base_url}/healthz", timeout=10).status_code == 200


# Operations behind the bearer token (a provider's webhook signs its body instead).
WRITES = [
    (method.upper(), path)
    for path, operations in openapi_document()["paths"].items()
    for method, operation in operations.items()
    if "security" in operation
]
OPERATIONS = [
    (method.upper(), path)
    for path, operations in openapi_document()["paths"].items()
    for method in operations
]


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic cm9vdDpyb290"])
def test_writes_without_the_token_are_refused(
    base_url: str, method: str, path: str, authorization: str | None
) -> None:
    url = base_url + path.replace("{event_id}", "e1").replace("{device_id}", f"{PREFIX}.1")
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.request(method, url, json={}, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_the_document_is_served(base_url: str) -> None:
    document = requests.get(f"{base_url}/openapi.json", timeout=10).json()
    assert document == openapi_document()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_an_unknown_query_parameter_is_refused(base_url: str, method: str, path: str) -> None:
    url = base_url + path.replace("{event_id}", "e1").replace("{device_id}", f"{PREFIX}.1")
    url = url.replace("{provider}", "acme")
    response = requests.request(
        method, url, params={"context": "x"}, json={}, headers=AUTH, timeout=10
    )
    assert response.status_code == 400
    assert response.json() == {"error": "unknown query parameter 'context'"}


def test_the_webhook_is_in_the_document() -> None:
    operation = openapi_document()["paths"]["/api/v1/signals/webhook/{provider}"]["post"]
    assert "security" not in operation  # signed by the provider, not the bearer token
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/WebhookBody"}

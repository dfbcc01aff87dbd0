"""The HTTP API fuzzed against its own OpenAPI document (schemathesis): no 500s, no crash,
and writes without the bearer token are refused. A small Antminer site answers behind it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from controller.app import Controller  # noqa: E402
from controller.integrations.openapi import openapi_document  # noqa: E402
from controller.settings import parse_config  # noqa: E402
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
        site = load_site_dict({"site": "fuzz", "devices": [
            {"make": "antminer", "model": "S21", "count": 4, "start": f"{PREFIX}.1",
             "timings": "instant"}]})  # fmt: skip
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
    yield f"http://127.0.0.1:{port}"
    stop.set()
    thread.join(30)
    assert not errors, errors


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_no_input_makes_a_server_error(case: schemathesis.Case, base_url: str) -> None:
    case.call_and_validate(
        base_url=base_url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=[not_a_server_error],
        timeout=10,
    )


WRITES = [
    (method.upper(), path)
    for path, operations in openapi_document()["paths"].items()
    for method in operations
    if method != "get"
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


def test_the_daemon_survived_the_fuzzing(base_url: str) -> None:
    status = requests.get(f"{base_url}/api/v1/status", timeout=10).json()
    assert status["devices"] == 4
    assert requests.get(f"{base_url}/openapi.json", timeout=10).json()["openapi"] == "3.0.3"

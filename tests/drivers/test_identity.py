"""A miner whose sources disagree on its model is identified by its boards (issue 12).

The real stock-firmware capture in tests/fixtures/captures/antminer/v2020 is one: the RPC
``version`` says "Antminer S19 Pro" and its stats show 3 boards of 114 chips at about
110 TH/s, while the web ``get_system_info`` says "Antminer S21" (108 chips a board, 200 TH/s).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import generate_latest

from controller.cli.probe import probe
from controller.config.settings import CredentialsConfig
from controller.integrations.metrics import ControllerMetrics, FleetCollector
from controller.state.domain import DeviceIdentity
from controller.state.fleet import DeviceRecord, Fleet
from controller.state.poller import PollStats
from drivers.antminer.device import AntminerDriver
from drivers.identity import Claim, Evidence, decide_model
from drivers.settings import DriverSettings
from drivers.types import DeviceEndpoint, DeviceInfo, IdentityConflict, Make
from tests.drivers.conftest import capture
from tests.drivers.fake_antminer import FakeAntminer
from tests.drivers.servers import read_request, serve

SETTINGS = DriverSettings(connect_timeout_s=1.0, read_timeout_s=2.0, write_timeout_s=3.0)
WEB = Claim(source="web get_system_info", model="Antminer S21")
RPC = Claim(source="rpc version", model="Antminer S19 Pro")
# What the capture's stats show: chain_acn1-3 = 114, GHS 5s 110,566.89.
CAPTURED = Evidence(boards=3, chips_per_board=(114, 114, 114), hashrate_ths=110.57)


def test_agreeing_sources_are_the_model() -> None:
    verdict = decide_model(Make.ANTMINER, [RPC, Claim(source="web", model="S19 Pro")], None)
    assert verdict.model == "Antminer S19 Pro"
    assert verdict.spec is not None
    assert verdict.spec.model == "S19 Pro"
    assert verdict.conflict is None


def test_disagreeing_sources_are_settled_by_boards_chips_and_hashrate() -> None:
    verdict = decide_model(Make.ANTMINER, [WEB, RPC], CAPTURED)
    assert verdict.model == "Antminer S19 Pro"
    assert verdict.spec is not None
    assert verdict.spec.nameplate_w == 3250
    assert verdict.conflict is not None
    assert verdict.conflict.reported == (
        ("web get_system_info", "Antminer S21"),
        ("rpc version", "Antminer S19 Pro"),
    )
    assert verdict.conflict.decided == "Antminer S19 Pro"
    evidence = verdict.conflict.evidence
    assert "3 boards, 114 chips per board, 111 TH/s fit S19 Pro" in evidence
    assert "Antminer S21: chips per board not 108; 55% of its 200 TH/s nameplate" in evidence


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        (Evidence(hashrate_ths=198.0), "Antminer S21"),  # the rate alone can decide
        (Evidence(chips_per_board=(108, 108, 108)), "Antminer S21"),
        (Evidence(boards=3), "Antminer S21"),  # both have 3 boards: a tie keeps the first
        (None, "Antminer S21"),  # nothing read: the first source stands, flagged
    ],
)
def test_what_the_evidence_can_and_cannot_settle(evidence: Evidence | None, expected: str) -> None:
    verdict = decide_model(Make.ANTMINER, [WEB, RPC], evidence)
    assert verdict.model == expected
    assert verdict.conflict is not None  # the disagreement is reported either way


def test_evidence_can_name_a_model_no_source_claimed() -> None:
    verdict = decide_model(
        Make.ANTMINER,
        [WEB, Claim(source="rpc version", model="Antminer S21 XP")],
        Evidence(boards=3, chips_per_board=(126, 126, 126), hashrate_ths=101.0),
    )
    assert verdict.model == "S19j Pro"
    assert verdict.conflict is not None


class CapturedAntminer(FakeAntminer):
    """The fake web API answering the capture's get_system_info; stats only over RPC."""

    def _system_info(self) -> dict[str, Any]:
        return dict(capture("system_info.json"))


@pytest.fixture
async def captured() -> AsyncIterator[DeviceEndpoint]:
    web = CapturedAntminer(model="S21")
    web.no_stats_cgi = True  # v2020 firmware: the capture's stats come over RPC
    await web.start()

    async def rpc(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command = json.loads(await read_request(reader))["command"]
        if "+" in command:
            reply = {"STATUS": [{"STATUS": "E", "Code": 14, "Msg": "Invalid command"}], "id": 1}
        else:
            reply = capture(f"{command}.json")
        writer.write(json.dumps(reply).encode() + b"\x00")

    try:
        async with serve(rpc) as rpc_port:
            yield DeviceEndpoint("127.0.0.1", (("web", web.port), ("rpc", rpc_port)))
    finally:
        await web.stop()


async def test_the_captured_miner_is_an_s19_pro_and_its_power_is_an_s19_pros(
    captured: DeviceEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    driver = AntminerDriver(captured, settings=SETTINGS)
    try:
        with caplog.at_level(logging.INFO, logger="drivers.antminer.device"):
            info = await driver.identify()
            await driver.identify()  # the same conflict again: no second log line
            telemetry = await driver.read()
    finally:
        await driver.close()
    assert info.model == "S19 Pro"  # as the RPC names it (the parser drops "Antminer")
    assert info.identity_conflict is not None
    assert info.identity_conflict.decided == "S19 Pro"
    assert info.hostname == "Antminer"  # the rest of get_system_info still stands
    # 3,250 W at 110 TH/s, scaled to the 110.6 TH/s it hashes: ~3.27 kW, not the S21's 1.93.
    assert telemetry.power_estimated
    assert telemetry.power_w == pytest.approx(3250 * 110.56689 / 110, rel=1e-3)
    lines = [r.getMessage() for r in caplog.records if "identity conflict" in r.getMessage()]
    assert lines == [
        f"antminer 127.0.0.1: identity conflict: web get_system_info says 'S21'; "
        f"rpc version says 'S19 Pro'; taking S19 Pro by its evidence: "
        f"{info.identity_conflict.evidence}"
    ]


async def test_probe_reports_the_conflict(captured: DeviceEndpoint) -> None:
    result = await probe(captured, Make.ANTMINER, CredentialsConfig(), SETTINGS)
    assert result["model"] == "S19 Pro"
    assert result["power_w"] == pytest.approx(3266.7, abs=1)
    conflict = result["identity_conflict"]
    assert conflict["reported"] == [
        {"source": "web get_system_info", "model": "S21"},
        {"source": "rpc version", "model": "S19 Pro"},
    ]
    assert conflict["decided"] == "S19 Pro"
    assert "114 chips per board" in conflict["evidence"]
    json.dumps(result)  # probe prints it as JSON


class _FleetOnly:
    """The fleet's part of the read model, over a fleet record alone."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet, self.site, self.stats = fleet, fleet.site, PollStats()

    def records(self) -> Fleet:
        return self.fleet

    def totals(self) -> tuple[float, float]:
        return self.fleet.totals()

    def by_health(self) -> Any:
        return self.fleet.by_health()

    def poll_stats(self) -> PollStats:
        return self.stats


def test_a_metric_flags_the_conflict() -> None:
    fleet = Fleet("s1")
    for device_id, conflict in (
        ("m1", IdentityConflict((("web", "Antminer S21"), ("rpc", "S19 Pro")), "S19 Pro", "x")),
        ("m2", None),
    ):
        endpoint = DeviceEndpoint("127.0.170.1")
        identity = DeviceIdentity(
            device_id=device_id, make=Make.ANTMINER, model=None, endpoint=endpoint, site="s1"
        )
        record = DeviceRecord(identity=identity, driver=AntminerDriver(endpoint))
        record.info = DeviceInfo(make=Make.ANTMINER, model="S19 Pro", identity_conflict=conflict)
        fleet.add(record)
    metrics = ControllerMetrics(fleet.site)
    metrics.add([FleetCollector(_FleetOnly(fleet))])
    text = generate_latest(metrics.registry).decode()
    assert (
        'hashpivot_device_identity_conflict{device="m1",make="antminer",model="S19 Pro",'
        'reported="web=Antminer S21; rpc=S19 Pro",site="s1"} 1.0'
    ) in text
    assert (
        'hashpivot_device_identity_conflict{device="m2",make="antminer",model="S19 Pro",'
        'reported="",site="s1"} 0.0'
    ) in text

"""openleadr's own OpenADRServer as the VTN, on loopback, recording opts and reports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from openleadr import OpenADRServer

from tests.conftest import free_port

VEN_ID = "ven-site-1"


@dataclass
class Vtn:
    server: Any
    url: str
    opts: list[tuple[str, str]] = field(default_factory=list)
    reports: list[float] = field(default_factory=list)

    def on_opt(self, ven_id: str, event_id: str, opt_type: str) -> None:
        self.opts.append((event_id, opt_type))

    def add(
        self,
        event_id: str,
        signal_name: str,
        signal_type: str,
        payload: float,
        start_in_s: float = 30.0,
    ) -> None:
        start = datetime.now(UTC) + timedelta(seconds=start_in_s)
        self.server.add_event(
            ven_id=VEN_ID,
            signal_name=signal_name,
            signal_type=signal_type,
            intervals=[
                {"dtstart": start, "duration": timedelta(minutes=10), "signal_payload": payload}
            ],
            callback=self.on_opt,
            event_id=event_id,
        )


@asynccontextmanager
async def running_vtn() -> AsyncIterator[Vtn]:
    port = free_port()
    server = OpenADRServer(
        vtn_id="VTN",
        http_host="127.0.0.1",
        http_port=port,
        requested_poll_freq=timedelta(seconds=1),
    )
    box = Vtn(server, f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b")

    async def on_create_party_registration(payload: dict[str, Any]) -> tuple[str, str]:
        return VEN_ID, "reg-1"

    async def on_register_report(
        ven_id: str,
        resource_id: str,
        measurement: str,
        unit: str,
        scale: str,
        min_sampling_interval: timedelta,
        max_sampling_interval: timedelta,
    ) -> tuple[Any, timedelta]:
        async def collect(data: Any) -> None:
            box.reports.extend(float(value) for _, value in data)

        return collect, min_sampling_interval

    server.add_handler("on_create_party_registration", on_create_party_registration)
    server.add_handler("on_register_report", on_register_report)
    await server.run()
    try:
        yield box
    finally:
        await server.stop()

"""``hashpivot run``: the daemon. Polls the fleet and serves metrics until told to stop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Coroutine, Sequence
from types import TracebackType
from typing import Self

from aiohttp import web

from controller.domain import DeviceIdentity
from controller.errors import ConfigError
from controller.fleet import DeviceRecord, Fleet
from controller.integrations.http import build_app
from controller.integrations.metrics import ControllerMetrics
from controller.logs import configure_logging
from controller.poller import Poller, PollStats
from controller.settings import ControllerConfig, load_config
from drivers import DriverSettings, open_driver

__all__ = ["Controller", "build_fleet", "main"]

log = logging.getLogger(__name__)


def build_fleet(config: ControllerConfig, settings: DriverSettings | None = None) -> Fleet:
    """One driver per configured device; nothing is sent until the first poll."""
    settings = settings or DriverSettings()
    fleet = Fleet(config.site)
    for group in config.devices:
        credentials = config.credentials_for(group)
        for endpoint in group.endpoints():
            device_id = f"{group.name_prefix or ''}{endpoint.host}"
            identity = DeviceIdentity(
                device_id, group.make, None, endpoint, config.site, rack=group.rack
            )
            driver = open_driver(group.make, endpoint, credentials=credentials, settings=settings)
            fleet.add(DeviceRecord(identity, driver))
    return fleet


class Controller:
    """The running daemon's parts, started and stopped together."""

    def __init__(self, config: ControllerConfig) -> None:
        self.config = config
        self.fleet = build_fleet(config)
        stats = PollStats()
        self.metrics = ControllerMetrics(self.fleet, stats)
        self.poller = Poller(
            self.fleet,
            concurrency=config.concurrency,
            timeout_s=config.poll_timeout_s,
            unreachable_after=config.unreachable_after,
            stats=stats,
            observe_sweep=self.metrics.observe_sweep,
        )
        self.stop_event = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Self:
        self._runner = web.AppRunner(build_app(self.fleet, self.metrics), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.listen_host, self.config.listen_port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            await self.fleet.close()
            raise ConfigError(f"listen: cannot bind {self.config.listen}: {exc.strerror}") from None
        poll = self.poller.run(self.config.poll_interval_s, self.stop_event)
        self._tasks.append(asyncio.create_task(self._guarded(poll), name="poller"))
        log.info(
            "polling %d devices every %g s; metrics on http://%s/metrics",
            len(self.fleet),
            self.config.poll_interval_s,
            self.config.listen,
        )
        return self

    async def _guarded(self, work: Coroutine[object, object, None]) -> None:
        """A long-lived task that fails stops the daemon loudly instead of dying silently."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a long-lived task failed; stopping the controller")
            self.stop_event.set()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_event.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
        await self.fleet.close()


async def serve(config: ControllerConfig) -> None:
    async with Controller(config) as controller:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, controller.stop_event.set)
        await controller.stop_event.wait()
        log.info("stopping")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="hashpivot run",
        description="Run the controller: poll every configured device and serve Prometheus "
        "metrics on the listen address (default 127.0.0.1:9861).",
        epilog="Example: hashpivot run deploy/examples/hashpivot-small.yaml\n"
        "Passwords may come from the config, from password_env/password_file, or from "
        "HASHPIVOT_<MAKE>_PASSWORD.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", help="controller configuration file (YAML)")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        config = load_config(args.config)
        asyncio.run(serve(config))
    except ConfigError as exc:
        print(f"hashpivot: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0

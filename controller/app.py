"""``hashpivot run``: the daemon. Polls the fleet and serves metrics until told to stop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import ipaddress
import logging
import math
import signal
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from typing import Any, Self

from aiohttp import web

from controller.cli.args import OneLineParser, add_log_level, fail
from controller.clock import Clock, SystemClock, wait_any
from controller.config.paths import resolve_state_path
from controller.config.sections import LoopSettings
from controller.config.settings import ControllerConfig, load_config
from controller.errors import ConfigError, ControllerError
from controller.integrations.api import Api
from controller.integrations.http import build_app
from controller.integrations.metrics import ControllerMetrics, collectors
from controller.integrations.mqtt import MqttBridge, MqttCollector
from controller.journal.kinds import JournalKind
from controller.journal.store import Journal
from controller.logs import configure_logging
from controller.reconcile.commands import DriverGpuControl
from controller.reconcile.events import EventTracker
from controller.reconcile.loop import Reconciler
from controller.reconcile.meter import SiteMeter, SitePower, SitePowerWatch, open_meter
from controller.reconcile.scheduler import SchedulerControl
from controller.service.control import ControlService
from controller.service.live import LiveReadModel
from controller.signals.config import build_sources, build_webhooks
from controller.signals.hub import SignalHub
from controller.signals.metrics import SignalCollector
from controller.signals.webhook import webhook_handler
from controller.state.control import ControlState, EventRecord
from controller.state.cycles import CycleJournal
from controller.state.domain import DeviceIdentity, Health
from controller.state.fleet import DeviceRecord, Fleet
from controller.state.poller import Poller, PollStats
from controller.state.power_history import PowerHistory, PowerPoint
from drivers import DriverSettings, open_driver
from drivers.clock import TimeSource
from drivers.scheduler import SchedulerAdapter, SlurmAdapter

__all__ = ["Controller", "build_fleet", "exposure_warnings", "main"]

log = logging.getLogger(__name__)

_DAY_S = 86_400.0
_FIRST_COMPACTION_S = 5.0


def build_fleet(
    config: ControllerConfig, settings: DriverSettings | None = None, *, clock: TimeSource
) -> Fleet:
    """One driver per configured device; nothing is sent until the first poll. The drivers
    stamp their readings with ``clock``, the controller's."""
    settings = replace(settings or config.drivers.to_settings(), clock=clock)
    fleet = Fleet(config.site)
    for group in config.devices:
        credentials = config.credentials_for(group)
        for endpoint in group.endpoints():
            identity = DeviceIdentity(
                device_id=group.device_id(endpoint.host),
                make=group.make,
                model=None,
                endpoint=endpoint,
                site=config.site,
                rack=group.rack,
            )
            driver = open_driver(group.make, endpoint, credentials=credentials, settings=settings)
            record = DeviceRecord(
                identity=identity, driver=driver, ai_class=group.ai_class, group=group.group
            )
            fleet.add(record)
    return fleet


class Controller:
    """The running daemon's parts, started and stopped together.

    The composition root: every part is built here and handed what it needs by its
    constructor. Outputs (HTTP, metrics, MQTT) get the read model and the command
    service (controller/service/), never the parts themselves.
    """

    def __init__(
        self,
        config: ControllerConfig,
        *,
        meter: SiteMeter | None = None,
        driver_settings: DriverSettings | None = None,
        scheduler: SchedulerAdapter | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        # The one clock every part reads (controller/clock.py); tests and the backtest's
        # hardware-in-the-loop mode hand in the simulated site's.
        self.clock: Clock = clock or SystemClock()
        clock = self.clock
        self.fleet = build_fleet(config, driver_settings, clock=clock)
        # The instruments the parts count into; the read-model families are added below.
        self.metrics = ControllerMetrics(self.fleet.site)
        # A scheduler adapter handed in (tests) replaces the configured Slurm cluster's.
        self.scheduler: SchedulerControl | None = None
        if config.scheduler is not None:
            adapter = scheduler or SlurmAdapter(config.scheduler.slurm_settings())
            self.scheduler = SchedulerControl(
                adapter,
                config.scheduler.to_settings(),
                on_read_error=self.metrics.count_scheduler_read_error,
                clock=clock,
            )
        self.state = ControlState.empty()
        # A relative journal path lives in the state directory (controller/config/paths.py).
        journal = config.journal.path
        self.journal = Journal(
            None if journal is None else resolve_state_path(journal), clock=clock
        )
        stats = PollStats()
        self.poller = Poller(
            self.fleet,
            concurrency=config.concurrency,
            timeout_s=config.poll_timeout_s,
            unreachable_after=config.unreachable_after,
            stats=stats,
            on_sweep=self._on_sweep,
            observe_sweep=self.metrics.observe_sweep,
            clock=clock,
        )
        # A meter object handed in (tests) replaces opening the configured one.
        if meter is None and config.meter is not None:
            meter = open_meter(config.meter, clock)
        meter_config = config.meter
        self.site_power = SitePowerWatch(
            fleet=self.fleet,
            meter=meter,
            interval_s=meter_config.interval_s if meter_config else 2.0,
            timeout_s=meter_config.timeout_s if meter_config else 2.0,
            on_sample=self._on_power,
            settle_s=meter_config.settle_s if meter_config else 30.0,
            other_load_floor_w=config.grid.other_load_kw * 1e3,
            on_other_load=self._on_other_load,
            clock=clock,
        )
        loop_settings = LoopSettings(
            control=config.control.to_settings(),
            policy=config.policy.to_settings(),
            grid=config.grid,
            economics=config.economics,
        )
        self.loop = Reconciler(
            self.fleet,
            self.state,
            self.journal,
            settings=loop_settings,
            gpu=DriverGpuControl(self.scheduler),
            request_sweep=self.poller.request_sweep,
            other_load=self.site_power,
            clock=clock,
        )
        tolerance_w = (meter_config.tolerance_kw if meter_config else 0.5) * 1e3
        self._tolerance_w = tolerance_w
        self._baseline_max_age_s = meter_config.baseline_max_age_s if meter_config else 60.0
        self.events = EventTracker(
            self.journal, tolerance_w=tolerance_w, on_confirmed=self._on_event_confirmed
        )
        self.service = ControlService(
            self.fleet,
            self.state,
            self.journal,
            trigger=self.loop.trigger,
            on_event=self._on_event_created,
            clock=clock,
        )
        # Signal sources are off unless configured.
        self.signals = SignalHub(
            self.service,
            clock,
            sources=build_sources(config.signals, clock, self._site_kw),
        )
        self.api_token = config.api.resolve()
        # The operator page's chart of the last hours (controller.integrations.web).
        self.power_history = PowerHistory()
        self.read = LiveReadModel(
            fleet=self.fleet,
            stats=stats,
            state=self.state,
            loop=self.loop,
            power=self.site_power,
            tracker=self.events,
            journal=self.journal,
            history=self.power_history,
            economics=config.economics,
            max_ages_s={
                "power_price": config.policy.max_price_age_s,
                "hashprice": config.policy.max_hashprice_age_s,
            },
            dry_run=config.control.dry_run,
            enabled=config.control.enabled,
            writes_enabled=self.api_token is not None,
            scheduler=self.scheduler,
            signals=self.signals.status_json,
            clock=clock,
        )
        self.metrics.add(
            [*collectors(self.read), SignalCollector(self.signals, site=self.read.site)]
        )
        self.api = Api(
            read=self.read,
            commands=self.service,
            token=self.api_token,
            on_refused=self.metrics.count_api_refused,
            webhook=webhook_handler(self.signals, build_webhooks(config.signals)),
        )
        # MQTT reads the read model and commands through the same service as the API.
        self.mqtt: MqttBridge | None = None
        if config.mqtt is not None:
            self.mqtt = MqttBridge(config.mqtt, self.read, self.service, clock=clock)
            self.metrics.add([MqttCollector(self.mqtt)])
        self.stop_event = asyncio.Event()
        self._health: dict[str, Health] = {}
        self.cycles = CycleJournal(self.fleet, self.journal)
        self._frozen = False
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def _on_sweep(self) -> None:
        if not self._frozen:
            # After the first sweep every driver, session and record exists and lives as
            # long as the daemon. Moving them out of the collector's sight halves the cost
            # of a 10,000-command burst (full collections otherwise rescan them all).
            self._frozen = True
            gc.collect()
            gc.freeze()
        self._journal_health()
        self.cycles.observe()
        await self.loop.after_sweep()
        if self.mqtt is not None:
            self.mqtt.on_sweep()

    def _journal_health(self) -> None:
        """Health transitions (not repeats) go to the journal for the compliance reports."""
        seen = self._health
        for record in self.fleet:
            device_id = record.identity.device_id
            if seen.get(device_id) is not record.health:
                if device_id in seen or record.health is not Health.HEALTHY:
                    data = {"health": record.health.value, "error": record.last_error}
                    self.journal.append(JournalKind.DEVICE_HEALTH, device_id, data)
                seen[device_id] = record.health

    def status(self) -> dict[str, Any]:
        """The API's status document (the read model's), for the tests and the demo."""
        return self.read.status(self.clock.time())

    def _site_kw(self) -> float | None:
        watts = self.site_power.latest().watts
        return None if watts is None else round(watts / 1e3, 3)

    def _on_power(self, sample: SitePower) -> None:
        self.events.sample(sample, self.state.active_events(sample.at))
        view = self.loop.view
        commanded = limit = None
        if view is not None:
            # The plan counts the fleet; the site draws its other load on top.
            commanded = view.plan.expected_site_w + view.plan.other_load_w
            if math.isfinite(view.plan.limit_w):
                limit = view.plan.limit_w + view.plan.other_load_w
        self.power_history.add(
            PowerPoint(
                at=sample.at,
                metered_w=sample.watts,
                source=sample.source,
                commanded_w=commanded,
                limit_w=limit,
            )
        )
        if sample.estimated:
            return
        reserve_w = self.config.policy.reserve_mw * 1e6
        for event in self.loop.level_events(sample.at):
            assert event.level_mw is not None
            if sample.watts > event.level_mw * 1e6 - reserve_w + self._tolerance_w:
                self.loop.trigger("meter above level", paced=True)
                return

    def _on_other_load(self, watts: float) -> None:
        """A measured other load worth keeping: journaled (a restart starts from it)."""
        self.journal.append(JournalKind.SITE_OTHER_LOAD, "", {"watts": round(watts, 1)})
        if self.loop.level_events(self.clock.time()):
            self.loop.trigger("other load measured", paced=True)

    def _on_event_created(self, event: EventRecord) -> None:
        # The baseline is the last meter sample before the instruction (if recent enough),
        # before any command for it; otherwise the estimate, and the report says which.
        last = self.site_power.last_meter
        now = self.clock.time()
        if last is not None and now - last.at <= self._baseline_max_age_s:
            baseline = last
        else:
            baseline = self.site_power.telemetry_power()
        self.events.begin(event, baseline, failed=self._failed_now(now))

    def _failed_now(self, now: float) -> list[dict[str, str]]:
        """Devices that cannot act on an event arriving now: unreachable, or held as stuck."""
        failed = []
        for record in self.fleet:
            if record.health is Health.UNREACHABLE:
                why = f"unreachable before the event: {record.last_error or 'no answer'}"
            elif record.stuck_until > now:
                why = f"stuck before the event: {record.stuck_reason}"
            else:
                continue
            failed.append({"device": record.identity.device_id, "reason": why})
        return failed

    def _on_event_confirmed(self, event: EventRecord, elapsed_s: float) -> None:
        self.metrics.observe_confirmation(elapsed_s)

    async def _restore(self) -> None:
        """Events, overrides, pause, prices and policy memory, as the journal left them.

        Only what the state needs is read (Journal.state_entries): a journal of months
        of price updates restarts as fast as a new one.
        """
        await self.journal.open()
        entries = await self.journal.state_entries()
        tracked = {JournalKind.EVENT_BASELINE, JournalKind.EVENT_MILESTONE}
        self.state.replay(e for e in entries if e.kind not in tracked)
        self.events.restore(e for e in entries if e.kind in tracked)
        now = self.clock.time()
        await self.cycles.restore(now)
        await self._restore_loop(now)
        active = [e.event_id for e in self.state.active_events(now)]
        overrides = sorted(self.state.live_overrides(now))
        self.journal.append(
            JournalKind.DAEMON_STARTED,
            "",
            {
                "run": self.journal.run,
                "active_events": active,
                "overrides": overrides,
                "paused": self.state.paused,
                "devices": len(self.fleet),
            },
        )
        if self.config.journal.path is None:
            log.warning("journal in memory: events and overrides will not survive a restart")
        if active or overrides:
            log.info("restored from the journal: events %s, overrides %s", active, overrides)

    async def _restore_loop(self, now: float) -> None:
        """The other load last measured, and what the last day's commands did."""
        other = await self.journal.latest([JournalKind.SITE_OTHER_LOAD], per_subject=False)
        if other:
            self.site_power.restore(float(other[-1].data["watts"]))
        kinds = [
            JournalKind.COMMAND_SENT,
            JournalKind.COMMAND_RESULT,
            JournalKind.COMMAND_CONFIRMED,
            JournalKind.DEVICE_STUCK,
        ]
        self.loop.restore(await self.journal.entries(kinds, since_at=now - _DAY_S), now)

    async def __aenter__(self) -> Self:
        try:
            await self._restore()
        except ControllerError:
            await self.fleet.close()
            raise
        app = build_app(self.api, self.metrics.registry, span_s=self.power_history.span_s)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.listen_host, self.config.listen_port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            await self.fleet.close()
            await self.journal.close()
            raise ConfigError(f"listen: cannot bind {self.config.listen}: {exc.strerror}") from None
        stop = self.stop_event
        for name, work in (
            ("poller", self.poller.run(self.config.poll_interval_s, stop)),
            ("reconcile", self.loop.run(stop)),
            ("confirm-sweeps", self.loop.confirm_sweeps(stop)),
            ("site-power", self.site_power.run(stop)),
            ("journal-compaction", self._compact_journal(stop)),
            *([("scheduler", self.scheduler.run(stop))] if self.scheduler else []),
            ("signals", self.signals.run(stop)),
            *([("mqtt", self.mqtt.run(stop))] if self.mqtt else []),
        ):
            self._tasks.append(asyncio.create_task(self._guarded(work), name=name))
        log.info(
            "polling %d devices every %g s; API and metrics on http://%s/%s",
            len(self.fleet),
            self.config.poll_interval_s,
            self.config.listen,
            " (dry run)" if self.config.control.dry_run else "",
        )
        for warning in exposure_warnings(self.config.listen_host, self.api_token):
            log.warning("%s", warning)
        return self

    async def _compact_journal(self, stop: asyncio.Event) -> None:
        """By the configured retention: soon after start (the restart has served by then),
        then every ``every_s``."""
        policy = self.config.journal.retention.to_retention()
        delay = _FIRST_COMPACTION_S
        while not stop.is_set():
            if await wait_any(self.clock, delay, stop):
                return
            await self.journal.compact(policy)
            delay = policy.every_s

    async def _guarded(self, work: Coroutine[object, object, None]) -> None:
        """A long-lived task that fails stops the daemon loudly instead of dying silently."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a long-lived task failed; stopping the controller")
            self.stop_event.set()

    async def __aexit__(self, *exc_info: object) -> None:
        # Stops the same way whether the block ended or raised; an exception propagates.
        self.stop_event.set()
        # The MQTT bridge sends what is queued and says "offline" before it is cancelled.
        bridges = [t for t in self._tasks if t.get_name() == "mqtt"]
        if bridges and self.config.mqtt is not None:
            await asyncio.wait(bridges, timeout=self.config.mqtt.timeout_s)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
        await self.signals.close()
        await self.loop.close()
        await self.site_power.close()
        await self.fleet.close()
        await self.journal.close()


def exposure_warnings(host: str, token: str | None) -> list[str]:
    """What an operator should hear at start about who can reach the API."""
    warnings = []
    if token is None:
        warnings.append(
            "no API token configured (api.token, token_env, token_file or HASHPIVOT_API_TOKEN): "
            "API writes are refused, so grid events and overrides cannot be posted"
        )
    try:
        everywhere = host in {"", "*"} or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        everywhere = False  # a host name: it resolves to whatever the operator chose
    if everywhere:
        warnings.append(
            f"listening on all interfaces ({host or '*'}): status, plan and journal are "
            "readable by anyone who can reach this host"
            + ("" if token is None else ", and the bearer token crosses the network in clear")
        )
    return warnings


async def serve(config: ControllerConfig) -> None:
    async with Controller(config) as controller:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, controller.stop_event.set)
        await controller.stop_event.wait()
        log.info("stopping")


def main(argv: Sequence[str]) -> int:
    parser = OneLineParser(
        prog="hashpivot run",
        description="Run the controller: poll every configured device and serve Prometheus "
        "metrics on the listen address (default 127.0.0.1:9861).",
        epilog="Example: hashpivot run deploy/examples/hashpivot-small.yaml\n"
        "Passwords may come from the config, from password_env/password_file, or from "
        "HASHPIVOT_<MAKE>_PASSWORD. A relative journal.path is under $STATE_DIRECTORY "
        "(systemd), else $XDG_STATE_HOME/hashpivot (~/.local/state/hashpivot).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", help="controller configuration file (YAML)")
    add_log_level(parser, "info")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        config = load_config(args.config)
        asyncio.run(serve(config))
    except ConfigError as exc:
        return fail("hashpivot", f"configuration error: {exc}", 2)
    except ControllerError as exc:
        return fail("hashpivot", str(exc), 1)
    return 0

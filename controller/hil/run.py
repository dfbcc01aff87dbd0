"""One hardware-in-the-loop replay: the real controller against the simulated site.

The site is served on loopback (:mod:`.site`), the controller runs on the site's own
simulated clock, the window's inputs arrive through the command service at their
simulated times (:mod:`.feed`), and what the site did is read from the simulator
(:mod:`.truth`) and settled by the fast mode's own economics. The clock runs at ``speed``
throughout. It starts well before the window, with control paused; once the controller
has planned, the clock jumps to shortly before the window (a jump does not shorten a
wait already begun, so every part's waits stay short at the replay's speed) and the
controller reads the whole site again; the window opens with fresh readings, nothing
sent yet, and control resumes as the first price arrives.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from controller.app import Controller
from controller.backtest.compare import HilReplay
from controller.backtest.economics import settle
from controller.backtest.errors import BacktestError
from controller.backtest.inputs import Inputs
from controller.backtest.site import BacktestSite
from controller.backtest.stepper import accounting_marks
from controller.errors import ControllerError
from controller.hil.feed import Step, schedule
from controller.hil.scheduler import SimScheduler
from controller.hil.site import HilSite, build_hil_site
from controller.hil.truth import TruthMeter
from simulators.clock import SimClock
from simulators.errors import SimulatorError
from simulators.fleet import Fleet
from simulators.gpu.device import GpuNodeDevice

__all__ = ["MAX_SPEED", "replay"]

MAX_SPEED = 1000.0  # beyond it a sweep of even a small site takes simulated minutes
_READY_S = 60.0  # real seconds the controller may take to poll the site once and plan
_FRESH_SWEEPS = 3  # poll intervals between the jump and the window: fresh readings at its start
_TICK_S = 5.0  # simulated seconds between two readings of the truth
_MOVED = re.compile(r"(?<![\d.])127\.172\.\d{1,3}\.\d{1,3}(?![\d.])")
_LATE_S = 5.0  # an input later than this (simulated seconds) is noted


class _Collect(logging.Handler):
    """The controller's warnings during the replay: counted for the report, not printed
    over the progress bar."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _until(clock: SimClock, t: float) -> None:
    while (left := t - clock.time()) > 0:
        await clock.sleep(left)


async def _ready(controller: Controller, clock: SimClock) -> None:
    try:
        async with asyncio.timeout(_READY_S):
            while controller.loop.view is None:
                if controller.stop_event.is_set():
                    break
                await clock.sleep(0.05 * clock.speed)  # a twentieth of a real second
    except TimeoutError:
        raise BacktestError(
            f"--hil: the controller did not plan within {_READY_S:.0f} s of starting"
        ) from None
    if controller.stop_event.is_set():
        raise BacktestError("--hil: the controller stopped while starting (see its log)")


async def _run_window(
    controller: Controller,
    truth: TruthMeter,
    inputs: Inputs,
    clock: SimClock,
    progress: Callable[[int], None] | None,
) -> list[str]:
    """Feed the inputs and close the accounting periods, each at its simulated time."""
    steps = schedule(inputs)
    marks = sorted(accounting_marks(inputs))
    times = sorted({s.at for s in steps} | set(marks))
    by_time: dict[float, list[Step]] = {}
    for s in steps:
        by_time.setdefault(s.at, []).append(s)
    late = 0.0
    prev = inputs.start

    async def sample() -> None:
        while True:
            truth.sample()
            await clock.sleep(_TICK_S)

    sampler = asyncio.create_task(sample(), name="hil-truth")
    try:
        for t in times:
            await _until(clock, t)
            if controller.stop_event.is_set():
                raise BacktestError("--hil: the controller stopped during the replay (see its log)")
            late = max(late, clock.time() - t)
            if t == inputs.start:
                truth.open(t)
            elif t in marks:
                truth.take(prev, t)
                prev = t
            for s in by_time.get(t, []):
                await s.action(controller.service)
            if t == inputs.start:
                await controller.service.resume("hil")
            if progress is not None and t < inputs.end:
                progress(inputs.prices.index(t))
    finally:
        sampler.cancel()
    notes = []
    if late > _LATE_S:
        notes.append(
            f"inputs and period closes ran up to {late:.0f} simulated s late (the machine "
            "was slower than the compressed clock)"
        )
    return notes


async def _replay(
    site: BacktestSite,
    inputs: Inputs,
    hil: HilSite,
    progress: Callable[[int], None] | None,
) -> HilReplay:
    began = time.perf_counter()
    speed = hil.speed
    clock = SimClock(speed, unix_start=inputs.start - speed * _READY_S)
    collect = _Collect()
    loggers = [logging.getLogger(name) for name in ("controller", "drivers", "simulators")]
    for logger in loggers:
        logger.addHandler(collect)
    try:
        async with Fleet(hil.site, clock=clock, ports=hil.ports, listen="exact") as sim:
            devices = [d for d in sim.devices if d.address in hil.device_ids]
            nodes = {d.address: d for d in devices if isinstance(d, GpuNodeDevice)}
            scheduler = SimScheduler(nodes, {a: n.options.load for a, n in nodes.items()})
            async with Controller(hil.config, clock=clock, scheduler=scheduler) as controller:
                await controller.service.pause("HIL replay: waiting for the window", "hil")
                await _ready(controller, clock)
                before = inputs.start - _FRESH_SWEEPS * hil.config.poll_interval_s
                clock.advance(max(0.0, before - clock.time()))
                controller.poller.request_sweep()
                truth = TruthMeter(
                    site=site,
                    inputs=inputs,
                    clock=clock,
                    devices=devices,
                    device_ids=hil.device_ids,
                    base_load_w=hil.base_load_w,
                    scheduler=scheduler,
                )
                notes = await _run_window(controller, truth, inputs, clock, progress)
    finally:
        for logger in loggers:
            logger.removeHandler(collect)
    result = settle(truth.trace("hil", "hashpivot policy, HIL (real controller)"), inputs)
    notes += hil.notes
    if collect.messages:
        # Named as the backtest names the device, not by its address in the replay.
        first = _MOVED.sub(
            lambda m: hil.device_ids.get(m.group(0), m.group(0)), collect.messages[0]
        )
        notes.append(f"{len(collect.messages)} warning(s) from the controller; first: {first}")
    return HilReplay(
        result=result,
        speed=speed,
        wall_s=time.perf_counter() - began,
        devices=len(devices),
        notes=notes,
    )


def replay(
    site: BacktestSite,
    inputs: Inputs,
    *,
    site_path: Path,
    config_path: Path | None,
    speed: float = 60.0,
    progress: Callable[[int], None] | None = None,
) -> HilReplay:
    """Replay ``inputs`` (a short window) through the real controller; BacktestError for
    anything that stops it, in one line."""
    if not 0 < speed <= MAX_SPEED:
        raise BacktestError(
            f"speed must be above 0 and at most {MAX_SPEED:g}, not {speed:g}", field="--hil-speed"
        )
    with tempfile.TemporaryDirectory(prefix="hashpivot-hil-") as tmp:
        hil = build_hil_site(
            site_path,
            config_path,
            speed=speed,
            listen_port=_free_port(),
            journal=Path(tmp) / "hil-journal.sqlite",
        )
        try:
            return asyncio.run(_replay(site, inputs, hil, progress))
        except SimulatorError as exc:
            raise BacktestError(f"--hil: the simulated site cannot start: {exc}") from None
        except ControllerError as exc:
            if isinstance(exc, BacktestError):
                raise
            raise BacktestError(f"--hil: the controller cannot start: {exc}") from None

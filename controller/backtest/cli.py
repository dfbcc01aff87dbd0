"""``hashpivot backtest``: replay prices and grid programs through the policy, compare strategies.

With no option but the site file it replays the shipped August 2023 ERCOT prices
(LZ_WEST) with the example events and contract (``data/``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from controller.backtest.compare import HilRunner, comparison_dict, comparison_lines
from controller.backtest.errors import BacktestError, MissingExtra
from controller.backtest.inputs import Inputs
from controller.backtest.programs import Contract, load_contract, load_events
from controller.backtest.progress import Progress
from controller.backtest.report import summary_table, write_json
from controller.backtest.run import STRATEGIES, BacktestRun, run_backtest
from controller.backtest.series import read_hashprice, read_prices, utc_seconds
from controller.backtest.site import BacktestSite, default_config_path, load_backtest_site
from controller.backtest.window import choose_window
from controller.cli.args import OneLineParser
from controller.policy import EventKind

__all__ = ["data_path", "main"]

_EPILOG = """\
examples:
  hashpivot backtest deploy/examples/site-small.yaml
  hashpivot backtest deploy/examples/site-small.yaml --hil 2      # and the real controller
  hashpivot backtest site.yaml --config hashpivot.yaml --prices rtm.csv --zone LZ_NORTH \\
      --hashprice 52 --events events.yaml --contract contract.yaml --out results/

Without --prices the shipped ERCOT August 2023 prices are used, with the example
events and contract unless --events/--contract are given. Plots need matplotlib:
pip install 'hashpivot[backtest]'.
"""


_HIL_SPEED = 60.0  # an hour of the window in a minute


def data_path(*parts: str) -> Path:
    """A file shipped in the package's ``data/`` folder."""
    return Path(str(resources.files("controller.backtest").joinpath("data", *parts)))


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="hashpivot backtest",
        description="What the policy would have earned on real prices, against other strategies.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("site", type=Path, help="the site file (hashpivot sim's format)")
    p.add_argument(
        "--config",
        type=Path,
        help="the controller config (default: "
        "hashpivot-<site>.yaml beside the site file, if there is one)",
    )
    p.add_argument("--prices", type=Path, help="real-time prices CSV, 15-minute intervals")
    p.add_argument("--zone", help="settlement point in the prices file (default LZ_WEST)")
    p.add_argument("--forecast", type=Path, help="day-ahead prices CSV, hourly")
    p.add_argument("--hashprice", help="USD/PH/day, or a CSV (default: the config's)")
    p.add_argument("--events", type=Path, help="grid program events YAML")
    p.add_argument("--contract", type=Path, help="power contract YAML (default: index)")
    p.add_argument(
        "--strategies",
        default=",".join(STRATEGIES),
        help=f"comma-separated, of {', '.join(STRATEGIES)}",
    )
    p.add_argument(
        "--strike",
        type=float,
        help="fixed strike USD/MWh (default: the fleet's break-even at the first hashprice)",
    )
    p.add_argument("--out", type=Path, help="output folder (default backtest-<site>)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNGs and report.html")
    p.add_argument(
        "--hil",
        type=float,
        metavar="HOURS",
        help="hardware-in-the-loop check: replay HOURS of the inputs through the real "
        "controller against the simulated site, beside the fast mode over the same window",
    )
    p.add_argument(
        "--hil-start",
        metavar="TIME",
        help="the HIL window's start, ISO 8601 with a zone (default: around the highest "
        "price, with an instructed event if one fits)",
    )
    p.add_argument(
        "--hil-speed",
        type=float,
        metavar="N",
        help="the simulated clock's speed during the HIL replay (default 60: an hour in a minute)",
    )
    return p


def _inputs(args: argparse.Namespace) -> Inputs:
    shipped = args.prices is None
    prices_path = data_path("ercot-2023-08", "rtm_spp_15min.csv") if shipped else args.prices
    prices = read_prices(prices_path, step_s=900.0, zone=args.zone)
    forecast_path = args.forecast
    if forecast_path is None and shipped:
        forecast_path = data_path("ercot-2023-08", "dam_spp_hourly.csv")
    forecast = None
    if forecast_path is not None:
        forecast = read_prices(forecast_path, step_s=3600.0, zone=prices.name or None)
    span = (prices.start, prices.end)
    events_path = args.events
    if events_path is None and shipped:
        events_path = data_path("examples", "events-2023-08.yaml")
    events = () if events_path is None else load_events(events_path, span=span)
    contract_path = args.contract
    if contract_path is None and shipped:
        contract_path = data_path("examples", "contract-2023-08.yaml")
    contract = Contract() if contract_path is None else load_contract(contract_path)
    return Inputs(
        prices=prices,
        hashprice=read_hashprice("0", start=span[0], end=span[1]),
        forecast=forecast,
        events=events,
        contract=contract,
    )


def _check_plots() -> None:
    try:
        import matplotlib  # noqa: F401, PLC0415 - optional: only plots need it
    except ImportError:
        raise MissingExtra(
            "plots need matplotlib: pip install 'hashpivot[backtest]' (or pass --no-plots)"
        ) from None


def run(argv: Sequence[str], hil: HilRunner | None = None) -> int:
    args = _parser().parse_args(list(argv))
    if args.hil is None and (args.hil_start is not None or args.hil_speed is not None):
        raise BacktestError("--hil-start and --hil-speed go with --hil HOURS", field="--hil")
    if not args.no_plots:
        _check_plots()
    inputs = _inputs(args)
    hashprice = None
    if args.hashprice is not None:
        series = read_hashprice(args.hashprice, start=inputs.start, end=inputs.end)
        hashprice = series
    site = load_backtest_site(args.site, args.config)
    if hashprice is None:
        hashprice = read_hashprice(
            str(site.hashprice_usd_per_ph_day), start=inputs.start, end=inputs.end
        )
    inputs = Inputs(
        prices=inputs.prices,
        hashprice=hashprice,
        forecast=inputs.forecast,
        events=inputs.events,
        contract=inputs.contract,
    )
    if args.hil is not None:
        return _run_hil(args, site, inputs, hil)
    strategies = tuple(s.strip() for s in args.strategies.split(",") if s.strip())
    simulated = sum(1 for s in strategies if s != "upper_bound")
    progress = Progress(simulated * inputs.steps)
    result = run_backtest(
        site, inputs, strategies=strategies, strike_usd_per_mwh=args.strike, progress=progress
    )
    out = args.out or Path(f"backtest-{site.name}")
    _write(result, out, plots=not args.no_plots)
    print(summary_table(result))
    print(
        f"results in {out}/ (result.json"
        + ("" if args.no_plots else ", report.html, *.png")
        + f"); {result.wall_s:.1f} s"
    )
    return 0


def _write(
    result: BacktestRun, out: Path, *, plots: bool, extra: dict[str, Any] | None = None
) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_json(result, out / "result.json", extra=extra)
        if plots:
            from controller.backtest.plots import write_report  # noqa: PLC0415 - optional

            write_report(result, out)
    except OSError as exc:
        raise BacktestError(f"cannot write results: {exc.strerror}", file=str(out)) from None


def _run_hil(
    args: argparse.Namespace, site: BacktestSite, inputs: Inputs, hil: HilRunner | None
) -> int:
    """The fast mode and the real controller over the same short window, side by side."""
    if hil is None:
        raise BacktestError("this entry point has no HIL replay; run `hashpivot backtest`")
    start = None
    if args.hil_start is not None:
        try:
            start = utc_seconds(args.hil_start)
        except ValueError:
            raise BacktestError(
                f"not an ISO 8601 time with a zone: {args.hil_start!r}", field="--hil-start"
            ) from None
    window, left_out = choose_window(inputs, args.hil, start)
    relay = [e.event_id for e in window.events if e.kind is EventKind.RELAY_TRIP]
    if relay:
        raise BacktestError(
            f"relay trip {relay[0]} lies in the window: the simulated site has no feeder "
            "relay to open; choose another --hil-start",
            field="--hil-start",
        )
    fast = run_backtest(site, window, strategies=("hashpivot",), strike_usd_per_mwh=args.strike)
    config = args.config or default_config_path(args.site, site.name)
    progress = Progress(window.steps)
    progress.stage("HIL replay", 0)
    try:
        measured = hil(
            site,
            window,
            site_path=args.site,
            config_path=config,
            speed=_HIL_SPEED if args.hil_speed is None else args.hil_speed,
            progress=progress.update,
        )
    finally:
        progress.close()
    ours = fast.results[0]
    both = replace(fast, results=(ours, measured.result))
    out = args.out or Path(f"backtest-{site.name}-hil")
    extra = {"hil": comparison_dict(ours, measured)}
    _write(both, out, plots=not args.no_plots, extra=extra)
    print(summary_table(both, verdict_line=False))
    print("\n".join(comparison_lines(ours, measured, window, left_out)))
    print(
        f"results in {out}/ (result.json" + ("" if args.no_plots else ", report.html, *.png") + ")"
    )
    return 0


def main(argv: Sequence[str] | None = None, *, hil: HilRunner | None = None) -> int:
    """Exit 0 on success, 2 with one line on stderr for any bad input, 130 on Ctrl-C.

    ``hil``: the hardware-in-the-loop replay (controller.hil), handed in by the command
    line, since it runs the composition root, a layer above this package."""
    try:
        return run(sys.argv[1:] if argv is None else argv, hil)
    except BacktestError as exc:
        print(f"hashpivot backtest: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nhashpivot backtest: interrupted", file=sys.stderr)
        return 130

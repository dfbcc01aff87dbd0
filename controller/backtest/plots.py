"""PNG plots (matplotlib, the ``[backtest]`` extra) and a self-contained report.html."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # files only, never a window

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from controller.backtest.economics import COMPONENTS, StrategyResult
from controller.backtest.report import result_dict, summary_table
from controller.backtest.run import BacktestRun
from controller.policy import EventKind

__all__ = ["PLOTS", "write_plots", "write_report"]

PLOTS = ("price_power.png", "cumulative.png", "events.png", "cycles.png")
_DPI = 110


def _dates_format(fmt: str) -> mdates.DateFormatter:
    return mdates.DateFormatter(fmt)  # type: ignore[no-untyped-call]  # matplotlib's own stub


def _dates(times: list[float]) -> list[float]:
    """Unix seconds -> matplotlib's date numbers (days since 1970)."""
    return [t / 86_400.0 for t in times]


def _interval_times(run: BacktestRun) -> list[float]:
    i = run.inputs
    return [i.start + k * i.step_s for k in range(i.steps)]


def _price_power(run: BacktestRun, path: Path) -> None:
    ours = run.result("hashpivot") or run.results[0]
    x = _dates(_interval_times(run))
    ledger = ours.ledger
    fig, ax = plt.subplots(figsize=(12, 4.5))
    ax.stackplot(
        x,
        [m * 1e3 for m in ledger.gpu_mw],
        [m * 1e3 for m in ledger.miner_mw],
        [m * 1e3 for m in ledger.other_mw],
        labels=["GPU nodes", "miners", "other load"],
        colors=["#6a51a3", "#f39c12", "#95a5a6"],
        alpha=0.85,
        step="post",
    )
    ax.set_ylabel(f"site power under {ours.label} (kW)")
    twin = ax.twinx()
    twin.plot(x, run.inputs.prices.values, color="#c0392b", linewidth=0.7, label="RT price")
    twin.set_yscale("symlog", linthresh=100)
    twin.set_ylabel(f"real-time price {run.inputs.prices.name} ($/MWh)")
    ax.xaxis.set_major_formatter(_dates_format("%m-%d"))
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    ax.legend(handles + h2, labels + l2, loc="upper left", fontsize=8)
    ax.set_title("Price against site power, stacked by class")
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def _cumulative(run: BacktestRun, path: Path) -> None:
    x = _dates(_interval_times(run))
    fig, ax = plt.subplots(figsize=(12, 4.5))
    for r in run.results:
        ax.plot(
            x,
            r.ledger.cumulative(),
            label=f"{r.label}: ${r.totals['total']:,.0f}",
            linewidth=2.2 if r.name == "hashpivot" else 1.1,
            linestyle="--" if r.name == "upper_bound" else "-",
        )
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_ylabel("cumulative $ (all components)")
    ax.xaxis.set_major_formatter(_dates_format("%m-%d"))
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Cumulative $ per strategy")
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def _events(run: BacktestRun, path: Path) -> None:
    shown = [r for r in run.results if r.name != "upper_bound"]
    events = shown[0].events if shown else []
    n = max(1, len(events))
    fig, axes = plt.subplots(n, 1, figsize=(10, 3.2 * n), squeeze=False)
    for ax, k in zip(axes[:, 0], range(n), strict=True):
        if not events:
            ax.text(0.5, 0.5, "no grid events in this backtest", ha="center", va="center")
            ax.set_axis_off()
            continue
        event = events[k].event
        for r in shown:
            outcome = r.events[k]
            if not outcome.trace:
                continue
            xs = _dates([t for t, _ in outcome.trace])
            ys = [mw * 1e3 for _, mw in outcome.trace]
            width = 2.2 if r.name == "hashpivot" else 1.0
            if event.kind is EventKind.FOUR_CP:
                mark = f"charged ${-outcome.penalty_usd:,.0f}"
            else:
                mark = "met" if outcome.met else "MISSED"
            ax.step(xs, ys, where="post", linewidth=width, label=f"{r.label} ({mark})")
        ax.axvspan(_dates([event.start])[0], _dates([event.end])[0], color="#f5b7b1", alpha=0.3)
        ax.axvline(_dates([event.due])[0], color="#c0392b", linestyle=":", label="deadline")
        if event.level_mw is not None:
            ax.axhline(event.level_mw * 1e3, color="black", linestyle="--", label="level")
        ax.set_ylabel("site kW")
        ax.set_title(f"{event.event_id} ({event.kind.value})", fontsize=10)
        ax.xaxis.set_major_formatter(_dates_format("%m-%d %H:%M"))
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def _cycles(run: BacktestRun, path: Path) -> None:
    shown = [r for r in run.results if r.name in {"hashpivot", "fixed_strike", "always_mine"}]
    fig, ax = plt.subplots(figsize=(12, 4.5))
    ids = shown[0].device_ids if shown else ()
    if len(ids) <= 80:
        width = 0.8 / max(1, len(shown))
        for n, r in enumerate(shown):
            xs = [i + n * width for i in range(len(r.wakes))]
            ax.bar(xs, r.wakes, width=width, label=r.label)
        ax.set_xticks(range(len(ids)))
        ax.set_xticklabels(ids, rotation=90, fontsize=6)
        ax.set_xlabel("device")
    else:
        top = max((max(r.wakes, default=0) for r in shown), default=0)
        for r in shown:
            ax.hist(r.wakes, bins=range(top + 2), alpha=0.5, label=r.label)
        ax.set_xlabel("sleep/wake cycles in the run")
        ax.set_yscale("log")
    days = run.inputs.steps * run.inputs.step_s / 86_400
    ax.set_ylabel(f"cycles per device ({days:.0f} days)")
    ax.legend(fontsize=8)
    ax.set_title("Sleep/wake (and drain/resume) cycles per device")
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def write_plots(run: BacktestRun, out: Path) -> list[Path]:
    paths = [out / name for name in PLOTS]
    for draw, path in zip((_price_power, _cumulative, _events, _cycles), paths, strict=True):
        draw(run, path)
    return paths


def _table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _components(results: tuple[StrategyResult, ...]) -> str:
    rows = [["component", *[r.label for r in results]]]
    for c in (*COMPONENTS, "total"):
        rows.append([c, *[f"{r.totals[c]:,.0f}" for r in results]])
    return _table(rows)


def _events_table(data: dict[str, Any]) -> str:
    rows = [["strategy", "event", "kind", "met", "level MW", "worst MW", "payment $", "penalty $"]]
    for name, s in data["strategies"].items():
        for e in s["events"]:
            rows.append(
                [
                    name,
                    e["id"],
                    e["kind"],
                    "yes" if e["met"] else "NO",
                    str(e["level_mw"]),
                    str(e["worst_mw"]),
                    f"{e['payment_usd']:,.0f}",
                    f"{e['penalty_usd']:,.0f}",
                ]
            )
    return _table(rows)


def write_report(run: BacktestRun, out: Path) -> Path:
    """The four PNGs, and report.html holding them (base64) with the tables: no network."""
    paths = write_plots(run, out)
    data = result_dict(run)
    images = "".join(
        f'<figure><img alt="{p.stem}" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode()}"></figure>'
        for p in paths
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>hashpivot backtest: {html.escape(run.site.name)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1300px}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;
text-align:right}}td:first-child,th:first-child{{text-align:left}}img{{max-width:100%}}
pre{{background:#f6f6f6;padding:1em;overflow:auto}}</style></head><body>
<h1>hashpivot backtest: site {html.escape(run.site.name)}</h1>
<p><strong>{html.escape(data["verdict"])}</strong></p>
<pre>{html.escape(summary_table(run))}</pre>
<h2>$ by component</h2>{_components(run.results)}
<h2>Grid events</h2>{_events_table(data)}
<h2>Plots</h2>{images}
<p>Prices: {html.escape(data["inputs"]["prices"])}. ERCOT market data (NP6-785-ER, NP4-180-ER),
public; shipped copy via github.com/saivarun3407/wattgap (MIT).</p>
</body></html>
"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path

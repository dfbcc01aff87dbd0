"""Site power over the last hours as a server-rendered SVG.

Why SVG from the server rather than a charting library in the browser: the page must
work on a LAN with nothing fetched at run time, and four lines over a few thousand
points need no library at all; the chart is a pure function of the history, so it is
tested in Python and costs one string build per refresh however many pages watch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape

from controller.state.control import EventRecord
from controller.state.power_history import PowerPoint

__all__ = ["power_chart"]

WIDTH, HEIGHT = 960, 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 28, 36
_COLORS = {"metered": "#1f77b4", "commanded": "#ff7f0e", "limit": "#d62728", "event": "#9467bd"}


# Characters XML 1.0 does not allow at all (escaping cannot help): C0 controls, surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    """An event id from any source as SVG text: escaped, and without characters XML lacks."""
    return escape(_NOT_XML.sub("\ufffd", value))


def _scale_w(peak_w: float) -> tuple[float, str]:
    return (1e6, "MW") if peak_w >= 2e6 else (1e3, "kW")


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def power_chart(
    points: Sequence[PowerPoint], events: Sequence[EventRecord], now: float, span_s: float
) -> str:
    """Metered, commanded and limit lines; each event's level from start to end and its
    deadline. The window starts at the first point or ``span_s`` ago, whichever is later."""
    shown = [p for p in points if p.at >= now - span_s]
    t0 = min((shown[0].at if shown else now - 60.0), now - 60.0)
    t1 = now
    levels = [e.level_mw * 1e6 for e in events if e.level_mw is not None and not e.is_over(t0)]
    values = [p.metered_w for p in shown]
    values += [p.commanded_w for p in shown if p.commanded_w is not None]
    values += [p.limit_w for p in shown if p.limit_w is not None]
    peak = max([*values, *levels, 1.0]) * 1.1
    unit_w, unit = _scale_w(peak)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(at: float) -> float:
        return _LEFT + (min(max(at, t0), t1) - t0) / (t1 - t0) * plot_w

    def y(watts: float) -> float:
        return _TOP + plot_h - min(max(watts, 0.0), peak) / peak * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="site power" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" '
        f'stroke="#ccc"/>',
    ]
    step = _nice_step(peak / unit_w)
    tick = 0.0
    while tick * unit_w <= peak:
        ty = y(tick * unit_w)
        out.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="#e4e4e4"/><text x="{_LEFT - 6}" y="{ty + 4:.1f}" '
            f'text-anchor="end">{tick:g} {unit}</text>'
        )
        tick += step
    time_step = _nice_step((t1 - t0) / 60.0, 6) * 60.0
    at = math.ceil(t0 / time_step) * time_step
    pattern = "%H:%M" if time_step >= 60 else "%H:%M:%S"
    while at <= t1:
        label = datetime.fromtimestamp(at, tz=UTC).strftime(pattern)
        out.append(
            f'<text x="{x(at):.1f}" y="{HEIGHT - _BOTTOM + 16}" text-anchor="middle">{label}</text>'
        )
        at += time_step
    out.append(
        f'<text x="{WIDTH - _RIGHT}" y="{HEIGHT - 6}" text-anchor="end" fill="#666">UTC</text>'
    )
    for event in events:
        if event.level_mw is None or event.is_over(t0):
            continue
        end = event.end if event.cancelled_at is None else min(event.end, event.cancelled_at)
        x0, x1, ly = x(event.start), x(end), y(event.level_mw * 1e6)
        color = _COLORS["event"]
        out.append(
            f'<rect x="{x0:.1f}" y="{_TOP}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{plot_h}" fill="{color}" fill-opacity="0.07"/>'
            f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{ly:.1f}" y2="{ly:.1f}" '
            f'stroke="{color}" stroke-width="2"/>'
            f'<text x="{x0 + 4:.1f}" y="{ly - 4:.1f}" fill="{color}">'
            f"{_text(event.event_id)} level</text>"
        )
        if event.deadline is not None and t0 <= event.deadline <= t1:
            dx = x(event.deadline)
            out.append(
                f'<line x1="{dx:.1f}" x2="{dx:.1f}" y1="{_TOP}" y2="{_TOP + plot_h}" '
                f'stroke="{color}" stroke-dasharray="4 3"/>'
                f'<text x="{dx + 3:.1f}" y="{_TOP + 12}" fill="{color}">deadline</text>'
            )
    lines: tuple[tuple[str, Callable[[PowerPoint], float | None], str], ...] = (
        ("limit", lambda p: p.limit_w, ""),
        ("commanded", lambda p: p.commanded_w, ' stroke-dasharray="6 3"'),
        ("metered", lambda p: p.metered_w, ""),
    )
    for name, pick, dash in lines:
        coords = " ".join(f"{x(p.at):.1f},{y(v):.1f}" for p in shown if (v := pick(p)) is not None)
        if coords:
            out.append(
                f'<polyline fill="none" stroke="{_COLORS[name]}" stroke-width="1.6"'
                f'{dash} points="{coords}"/>'
            )
    legend_x = _LEFT
    for name in ("metered", "commanded", "limit", "event"):
        out.append(
            f'<rect x="{legend_x}" y="8" width="12" height="4" fill="{_COLORS[name]}"/>'
            f'<text x="{legend_x + 16}" y="14">{name}</text>'
        )
        legend_x += 100
    out.append("</svg>")
    return "".join(out)

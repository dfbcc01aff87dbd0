"""A picture of the dashboard's data where Grafana cannot run: each panel's queries, asked
of a Prometheus over a time range as Grafana would, drawn with matplotlib in the
dashboard's layout order. It is the same PromQL as deploy/grafana/hashpivot.json, not a
screenshot of Grafana.

    python deploy/grafana/plot.py http://127.0.0.1:9090 <site> <seconds> docs/dashboard.png

tests/e2e/test_prometheus_dashboard.py calls :func:`plot` with HASHPIVOT_DASHBOARD_PLOT set.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def query_range(base: str, promql: str, start: float, end: float, step: float) -> list[Any]:
    # Only a Prometheus over HTTP(S): urlopen would also read file: and custom schemes.
    if urllib.parse.urlsplit(base).scheme not in {"http", "https"}:
        raise ValueError(f"Prometheus base URL must be http(s), got {base!r}")
    params = urllib.parse.urlencode({"query": promql, "start": start, "end": end, "step": step})
    url = f"{base}/api/v1/query_range?{params}"
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - scheme checked above
        return list(json.load(response)["data"]["result"])


def legend(template: str, labels: dict[str, str]) -> str:
    if template in {"", "__auto"}:
        return ",".join(f"{k}={v}" for k, v in labels.items()) or "value"
    for key, value in labels.items():
        template = template.replace("{{" + key + "}}", value)
    return template


def plot(base: str, site: str, seconds: float, out: Path, rate_interval: str = "30s") -> None:
    import matplotlib  # noqa: PLC0415 - only this picture needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    dashboard = json.loads((HERE / "hashpivot.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    end = time.time()
    start = end - seconds
    step = max(1.0, seconds / 300)
    columns = 3
    rows = (len(panels) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(6 * columns, 3.2 * rows), squeeze=False)
    for axis, panel in zip(axes.flat, panels, strict=False):
        axis.set_title(panel["title"], fontsize=10)
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        for target in panel["targets"]:
            promql = target["expr"].replace("$__rate_interval", rate_interval)
            promql = promql.replace("$site", site)
            for series in query_range(base, promql, start, end, step):
                points = [(float(t) - end, float(v)) for t, v in series["values"]]
                axis.plot(
                    [p[0] / 60 for p in points],
                    [p[1] for p in points],
                    label=legend(target.get("legendFormat", ""), series["metric"]),
                )
        axis.set_xlabel("minutes before the end", fontsize=8)
        axis.set_ylabel(unit, fontsize=8)
        axis.tick_params(labelsize=7)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=6, loc="best")
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(panels) :]:
        axis.axis("off")
    figure.suptitle(f"hashpivot dashboard queries from Prometheus, site {site} (not Grafana)")
    figure.tight_layout()
    figure.savefig(out, dpi=80)
    plt.close(figure)


if __name__ == "__main__":
    base_url, site_name, span, path = sys.argv[1:5]
    plot(base_url, site_name, float(span), Path(path))

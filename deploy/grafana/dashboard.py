"""The hashpivot Grafana dashboard, built as code with grafana-foundation-sdk.

    python deploy/grafana/dashboard.py            # rewrites deploy/grafana/hashpivot.json

The JSON beside this file is generated: edit this script, never the JSON (a test checks
they agree, lints the JSON against the SDK's Grafana schema types, and asks a real
Prometheus for every query). The SDK is Grafana's own, generated from its schemas, so a
panel option that Grafana does not know is a type error here rather than a silently
ignored key in hand-typed JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders.common import ReduceDataOptions, VizLegendOptions
from grafana_foundation_sdk.builders.dashboard import Dashboard, QueryVariable, Row
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import (
    BigValueColorMode,
    BigValueGraphMode,
    LegendDisplayMode,
    LegendPlacement,
)
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

HERE = Path(__file__).parent
OUTPUT = HERE / "hashpivot.json"
# The provisioned data source (provisioning/datasources/prometheus.yaml).
DATASOURCE = DataSourceRef(type_val="prometheus", uid="hashpivot-prometheus")
SITE = 'site=~"$site"'


def query(expr: str, legend: str = "", ref: str = "A") -> Dataquery:
    return (
        Dataquery().expr(expr).legend_format(legend or "__auto").ref_id(ref).datasource(DATASOURCE)
    )


def series(title: str, unit: str, *targets: tuple[str, str], description: str = "") -> Timeseries:
    panel = (
        Timeseries()
        .title(title)
        .unit(unit)
        .datasource(DATASOURCE)
        .height(8)
        .span(12)
        .legend(
            VizLegendOptions()
            .display_mode(LegendDisplayMode.TABLE)
            .placement(LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .line_width(2)
        .fill_opacity(5)
    )
    if description:
        panel = panel.description(description)
    for index, (expr, legend) in enumerate(targets):
        panel = panel.with_target(query(expr, legend, chr(ord("A") + index)))
    return panel


def stat(title: str, unit: str, expr: str, legend: str = "") -> Stat:
    return (
        Stat()
        .title(title)
        .unit(unit)
        .datasource(DATASOURCE)
        .height(4)
        .span(6)
        .graph_mode(BigValueGraphMode.AREA)
        .color_mode(BigValueColorMode.VALUE)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .with_target(query(expr, legend))
    )


def build() -> Dashboard:
    rate = "[$__rate_interval]"
    return (
        Dashboard("hashpivot")
        .uid("hashpivot-site")
        .description(
            "A mining site under hashpivot: power against its limit, grid events, "
            "economics, devices, commands, signals, GPU nodes and the controller."
        )
        .tags(["hashpivot", "generated"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("utc")
        .with_variable(
            QueryVariable("site")
            .label("Site")
            .datasource(DATASOURCE)
            .query("label_values(hashpivot_devices, site)")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .include_all(True)
            .all_value(".*")
            .multi(True)
        )
        .with_row(Row("Power and grid"))
        .with_panel(
            series(
                "Site power: metered, commanded, limit",
                "watt",
                (
                    f"sum by (source) (hashpivot_site_metered_power_watts{{{SITE}}})",
                    "metered ({{source}})",
                ),
                (f"hashpivot_site_commanded_power_watts{{{SITE}}}", "commanded"),
                (f"hashpivot_site_limit_watts{{{SITE}}}", "limit"),
                (f"hashpivot_event_level_watts{{{SITE}}}", "event {{event}} level"),
                description="Metered by the site meter (or summed telemetry when it is down), what "
                "the plan expects once its commands land, and the plan's limit.",
            )
        )
        .with_panel(
            series(
                "Curtailable power",
                "watt",
                (f"hashpivot_curtailable_power_watts{{{SITE}}}", "curtailable now"),
                description="What sleeping every running, controllable miner would remove now.",
            )
        )
        .with_panel(
            series(
                "Grid events and compliance",
                "short",
                (f"sum by (kind) (hashpivot_events_active{{{SITE}}})", "active {{kind}}"),
                (
                    f"hashpivot_event_excess_watts{{{SITE}}} / 1000",
                    "kW over level past deadline: {{event}}",
                ),
                (
                    f"hashpivot_event_confirmation_seconds_sum{{{SITE}}}"
                    f" / hashpivot_event_confirmation_seconds_count{{{SITE}}}",
                    "mean s to confirm",
                ),
            )
        )
        .with_row(Row("Economics and signals"))
        .with_panel(
            series(
                "Hashprice against each model's break-even",
                "currencyUSD",
                (f"hashpivot_hashprice_usd_per_ph_day{{{SITE}}}", "hashprice ({{source}})"),
                (
                    f"hashpivot_model_break_even_hashprice_usd_per_ph_day{{{SITE}}}",
                    "{{model}} break-even",
                ),
                description="USD per PH/s per day. A model below the hashprice earns more than its "
                "power costs at the current power price.",
            )
        )
        .with_panel(
            series(
                "Power price and its forecast",
                "currencyUSD",
                (f"hashpivot_power_price_usd_per_mwh{{{SITE}}}", "price ({{source}})"),
                (
                    f"hashpivot_power_price_forecast_usd_per_mwh{{{SITE}}}",
                    "forecast for +{{horizon}} ({{source}})",
                ),
                description="USD per MWh: the price the policy uses, and what the latest forecast "
                "gives for now and for 1, 4 and 24 hours ahead.",
            )
        )
        .with_panel(
            series(
                "Signal ages",
                "s",
                (f"hashpivot_economics_age_seconds{{{SITE}}}", "{{signal}} ({{source}})"),
                (f"hashpivot_economics_max_age_seconds{{{SITE}}}", "{{signal}} trusted up to"),
                description="How old the price and hashprice the policy uses are, against the "
                "age past which it stops trusting them.",
            )
        )
        .with_panel(
            series(
                "Signal sources: age and staleness",
                "s",
                (f"hashpivot_signal_age_seconds{{{SITE}}}", "{{source}} age"),
                (f"hashpivot_signal_stale{{{SITE}}}", "{{source}} stale (1)"),
                description="Each source's newest value (prices, hashprice) or last contact "
                "(OpenADR, webhook, relay, 4CP flags); 1 on the stale line while a source is past "
                "its staleness limit.",
            )
        )
        .with_row(Row("Devices and commands"))
        .with_panel(
            series(
                "Devices by state",
                "short",
                (f"sum by (state) (hashpivot_device_mining_state{{{SITE}}})", "{{state}}"),
                (f"hashpivot_devices_stuck{{{SITE}}}", "stuck"),
            )
        )
        .with_panel(
            series(
                "Devices by health",
                "short",
                (f"sum by (health) (hashpivot_devices{{{SITE}}})", "{{health}}"),
            )
        )
        .with_panel(
            series(
                "Command results",
                "short",
                (
                    f"sum by (result) (increase(hashpivot_commands_total{{{SITE}}}{rate}))",
                    "{{result}}",
                ),
            )
        )
        .with_panel(
            series(
                "GPU power and limits per node",
                "watt",
                (f'hashpivot_device_power_watts{{{SITE}, make="gpu"}}', "{{device}} power"),
                (f'hashpivot_device_power_limit_watts{{{SITE}, make="gpu"}}', "{{device}} limit"),
            )
        )
        .with_row(Row("Controller"))
        .with_panel(
            series(
                "Poll and plan durations",
                "s",
                (
                    "histogram_quantile(0.9, sum by (le) "
                    f"(rate(hashpivot_poll_duration_seconds_bucket{{{SITE}}}{rate})))",
                    "sweep p90",
                ),
                (f"hashpivot_plan_duration_seconds{{{SITE}}}", "last plan"),
            )
        )
        .with_panel(stat("Plans computed", "short", f"hashpivot_plans_total{{{SITE}}}"))
        .with_panel(stat("Meter up", "bool", f"hashpivot_meter_up{{{SITE}}}"))
    )


def render() -> str:
    dashboard = build().build()
    # Panel ids in reading order (the builder leaves them unset): links and alerts cite them.
    for number, panel in enumerate(dashboard.panels or [], start=1):
        panel.id_val = number
    return json.dumps(dashboard, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main() -> int:
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A real Prometheus (Debian's ``prometheus``) with the project's deploy/prometheus config
scrapes the controller over the simulated site; every query of every dashboard panel
must return data through Prometheus's HTTP API, as Grafana would ask for it."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.conftest import free_port, require_tool
from tests.e2e.conftest import SiteFactory
from tests.test_grafana import dashboard_json, generator, panel_queries

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RATE_INTERVAL = "30s"  # what Grafana puts for $__rate_interval at a 1 s scrape interval


def prometheus_config(tmp: Path, target: str) -> Path:
    """The shipped config and rules, pointed at this test's controller, scraped every second."""
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    config["global"]["scrape_interval"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    config["rule_files"] = [str(PROMETHEUS / "alerts.yml")]
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "hashpivot"]
    job["static_configs"] = [{"targets": [target]}]
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def grafana_to_promql(expr: str, site: str) -> str:
    return expr.replace("$__rate_interval", RATE_INTERVAL).replace("$site", site)


async def instant(session: aiohttp.ClientSession, base: str, promql: str) -> list[Any]:
    async with session.get(f"{base}/api/v1/query", params={"query": promql}) as response:
        body = await response.json()
    assert body["status"] == "success", (promql, body)
    return list(body["data"]["result"])


async def test_every_panel_query_returns_data_from_a_real_prometheus(
    running_site: SiteFactory, tmp_path: Path
) -> None:
    binary = require_tool("prometheus")
    queries = panel_queries(dashboard_json())
    assert len(queries) >= 15
    async with running_site("127.0.201", relay={}) as site:
        target = site.api.base.split("//")[1].split("/")[0]
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            binary,
            f"--config.file={prometheus_config(tmp_path, target)}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        name = site.controller.fleet.site
        base = f"http://127.0.0.1:{port}"
        try:
            if os.environ.get("HASHPIVOT_DASHBOARD_PLOT"):
                await asyncio.sleep(40)  # for the picture: the site before anything happens
            # Things to show: commands (a price above some break-evens), and a grid event
            # whose deadline passes at once, so its level and compliance series exist.
            await site.api.call("PUT", "/economics", {"power_price_usd_per_mwh": 90})
            # A day-ahead curve, as a price signal source would hand it to the service.
            now = time.time()
            hours = [
                (now - 600 + 3600 * h, now - 600 + 3600 * (h + 1), 60.0 + 5 * h) for h in range(26)
            ]
            await site.controller.service.set_forecast(
                hours, as_of=now, source="test-day-ahead", actor="test"
            )
            await site.api.call(
                "POST",
                "/events",
                {
                    "kind": "instructed",
                    "level_mw": 0.05,
                    "within_s": 1,
                    "event_id": "dash-1",
                },
                status=201,
            )
            missing: list[tuple[str, str]] = queries
            async with aiohttp.ClientSession() as session:
                async with asyncio.timeout(60):
                    while missing:
                        await asyncio.sleep(1.0)
                        try:
                            missing = [
                                (title, expr)
                                for title, expr in queries
                                if not await instant(session, base, grafana_to_promql(expr, name))
                            ]
                        except aiohttp.ClientError:
                            continue  # Prometheus still starting
                # The dashboard's site variable comes from this label query.
                async with session.get(
                    f"{base}/api/v1/label/site/values", params={"match[]": "hashpivot_devices"}
                ) as response:
                    assert name in (await response.json())["data"]
                up = await instant(session, base, 'up{job="hashpivot"}')
                assert [s["value"][1] for s in up] == ["1"]
                if out := os.environ.get("HASHPIVOT_DASHBOARD_PLOT"):
                    # The README's picture of the dashboard: its queries over this run.
                    wait = float(os.environ.get("HASHPIVOT_DASHBOARD_WAIT", "60"))
                    await asyncio.sleep(wait)
                    draw = generator("plot").plot
                    await asyncio.to_thread(draw, base, name, wait + 60.0, Path(out))
        except TimeoutError:
            pytest.fail(f"no data from Prometheus for: {missing}")
        finally:
            process.terminate()
            _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()[-2000:]

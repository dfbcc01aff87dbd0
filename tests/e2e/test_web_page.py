"""The operator page in a real headless Chromium against the simulated mixed site.

Selenium calls block, so each runs in a thread while the site and the controller
keep running on the test's event loop. Set HASHPIVOT_SCREENSHOT=<path.png> to save
the page during the grid event (that is how docs/web-page.png was made).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from controller.state.power_history import PowerHistory
from tests.e2e.browser import chromium
from tests.e2e.conftest import SiteFactory
from tests.e2e.helpers import TOKEN, device_groups, mixed_site

pytestmark = pytest.mark.slow


class Page:
    def __init__(self, driver: Any) -> None:
        self.driver = driver

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def text(self, element_id: str) -> str:
        return str(await self.run(lambda: self.driver.find_element("id", element_id).text))

    async def attr(self, element_id: str, name: str) -> str:
        return str(
            await self.run(lambda: self.driver.find_element("id", element_id).get_attribute(name))
        )

    async def type(self, element_id: str, value: str) -> None:
        def go() -> None:
            box = self.driver.find_element("id", element_id)
            box.clear()
            box.send_keys(value)

        await self.run(go)

    async def click(self, element_id: str) -> None:
        await self.run(lambda: self.driver.find_element("id", element_id).click())

    async def table(self, element_id: str) -> list[list[str]]:
        # One script reads the whole table: the page replaces its rows on every refresh, so
        # element by element reads could meet rows that are already gone.
        script = (
            "return Array.from(document.getElementById(arguments[0]).rows)"
            ".map(r => Array.from(r.cells).map(c => c.textContent));"
        )
        return list(await self.run(self.driver.execute_script, script, element_id))

    async def click_css(self, selector: str) -> None:
        """Click what ``selector`` finds now (re-rendered buttons: found and clicked at once)."""
        script = "document.querySelector(arguments[0]).click();"
        await self.run(self.driver.execute_script, script, selector)

    async def wait_text(self, element_id: str, predicate: Callable[[str], bool]) -> str:
        async with asyncio.timeout(20):
            while not predicate(text := await self.text(element_id)):
                await asyncio.sleep(0.2)
        return text


def kw(text: str) -> float:
    """Watts from the page's "123.4 kW" / "1.23 MW"."""
    value, unit = text.split()[:2]
    return float(value) * (1e6 if unit == "MW" else 1e3)


async def test_page_shows_the_site_and_acts_with_a_token(
    running_site: SiteFactory, tmp_path: Path
) -> None:
    # Racks as a site file gives them: the first half of the groups in A, the rest in B.
    groups = device_groups(mixed_site("127.0.200"))
    racks = [{**g, "rack": "A" if i < len(groups) // 2 else "B"} for i, g in enumerate(groups)]
    async with running_site("127.0.200", devices=racks) as site:
        port = site.api.base.split(":")[2].split("/")[0]
        # A finer history than the daemon's 5 s, so that seconds of a test make a line.
        site.controller.power_history = PowerHistory(span_s=600.0, step_s=0.5)
        driver = await asyncio.to_thread(chromium, tmp_path / "profile")
        page = Page(driver)
        try:
            await page.run(driver.get, f"http://127.0.0.1:{port}/")
            status = await site.api.call("GET", "/status")
            total = await page.wait_text("device-total", lambda t: t.endswith("devices"))
            assert total == f"{status['devices']} devices"
            # Every device is counted once per state, as the API counts them.
            by_state = {r[0]: int(r[1]) for r in await page.table("by-state")}
            assert sum(by_state.values()) == status["devices"]
            status = await site.api.call("GET", "/status")
            assert by_state == status["by_state"]
            by_rack = await page.table("by-rack")
            assert [r[0] for r in by_rack] == ["A", "B"]
            assert sum(int(r[1]) for r in by_rack) == status["devices"]
            # Power shown is the API's (a kW figure rounded to 0.1, and the meter moves a little).
            shown = kw(await page.text("metered"))
            api_w = (await site.api.call("GET", "/status"))["site_power"]["watts"]
            assert shown == pytest.approx(api_w, rel=0.03)

            # Without a token the API refuses, and the page says so.
            await page.type("event-level", "0.06")  # about half the site's draw
            await page.type("event-within", "60")
            await page.click("event-create")
            refused = await page.wait_text("action-result", lambda t: "refused" in t)
            assert "401" in refused
            assert "token" in refused
            assert await page.attr("action-result", "class") == "refused"
            assert (await site.api.call("GET", "/events"))["events"] == []

            # With the token (typed once, kept for the session only) the event is created.
            await page.type("token", TOKEN)
            await page.click_css("#token-form button")
            await page.wait_text("token-state", lambda t: t.startswith("token set"))
            assert TOKEN not in driver.current_url
            await page.click("event-create")
            done = await page.wait_text("action-result", lambda t: "done" in t)
            assert "201" in done
            events = (await site.api.call("GET", "/events"))["events"]
            assert len(events) == 1
            event = events[0]
            assert event["source"] == "web"
            assert event["level_mw"] == 0.06
            journal = await site.api.call("GET", "/journal?kind=event.created")
            assert [e["subject"] for e in journal["entries"]] == [event["event_id"]]
            assert journal["entries"][0]["actor"].startswith("api:127.0.0.1")

            # The page keeps updating without a reload: the event, then its compliance.
            first = await page.text("updated")
            rows = await page.wait_text("event-rows", lambda t: event["event_id"] in t)
            assert "active" in rows
            await page.wait_text("updated", lambda t: t != first)
            async with asyncio.timeout(30):
                while not (await page.table("event-rows"))[0][8].endswith(" s"):
                    await asyncio.sleep(0.3)  # time to 100% of the drop, once the meter shows it
            row = (await page.table("event-rows"))[0]
            assert row[9] == "met"
            assert kw(await page.text("limit")) <= 0.06e6 + 1.0
            chart = await page.attr("chart", "src")
            await asyncio.sleep(3.5)
            assert await page.attr("chart", "src") != chart
            if path := os.environ.get("HASHPIVOT_SCREENSHOT"):
                await asyncio.sleep(float(os.environ.get("HASHPIVOT_SCREENSHOT_WAIT", "0")))
                await page.run(driver.save_screenshot, path)

            # Cancel from the page: the API shows it cancelled.
            await page.click_css("button.cancel-event")
            await page.wait_text("action-result", lambda t: t.startswith("cancel") and "done" in t)
            cancelled = await site.api.call("GET", f"/events/{event['event_id']}")
            assert cancelled["cancelled_at"] is not None
            assert cancelled["cancelled_at"] <= time.time()

            # Pause and resume, an override with an expiry and its clearing.
            await page.type("pause-reason", "maintenance")
            await page.click("pause")
            await page.wait_text("control-state", lambda t: t == "paused: maintenance")
            assert (await site.api.call("GET", "/status"))["control"]["paused"] is True
            await page.click("resume")
            await page.wait_text("control-state", lambda t: t == "controlling")
            device = sorted(site.miners())[0]
            await page.type("override-device", device)
            await page.type("override-minutes", "30")
            await page.click("override-set")
            await page.wait_text(
                "action-result", lambda t: t.startswith("override") and "done" in t
            )
            (override,) = (await site.api.call("GET", "/overrides"))["overrides"]
            assert override["device_id"] == device
            assert override["expires_at"] == pytest.approx(time.time() + 1800, abs=30)
            await page.wait_text("overrides", lambda t: device in t)
            await page.click("override-clear")
            await page.wait_text("action-result", lambda t: t.startswith("clear") and "done" in t)
            assert (await site.api.call("GET", "/overrides"))["overrides"] == []
        finally:
            await asyncio.to_thread(driver.quit)

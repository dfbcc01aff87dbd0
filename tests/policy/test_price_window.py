"""A price window is a span of time, not one price update (issue 10: three updates a
second apart counted as three windows and slept 13 miners)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from controller import policy
from controller.config.settings import parse_config
from controller.policy import PolicyMemory, PolicySettings
from drivers import Sleep
from tests.policy.site import FAST, T0, inputs, miner

HIGH = 500.0  # USD/MWh: far above any miner's break-even
WINDOW = 300.0
SETTINGS = replace(FAST, curtail_after_windows=3, resume_after_windows=3, price_window_s=WINDOW)
START = (T0 // WINDOW) * WINDOW  # the first second of a window


def sleeps_after(price_times: list[float], settings: PolicySettings = SETTINGS) -> int:
    """Feed one price update at each time (as_of = now) and count the sleeps planned."""
    memory: PolicyMemory | None = None
    for at in price_times:
        site = inputs(
            [miner(f"m{i}", now=at) for i in range(13)], now=at, price=HIGH, settings=settings
        )
        plan, memory = policy.plan(site, memory)
    return sum(isinstance(c.command, Sleep) for c in policy.diff(plan, site.fleet))


def test_three_updates_a_second_apart_are_one_window() -> None:
    assert sleeps_after([START + 1, START + 2, START + 3]) == 0


def test_three_windows_of_high_prices_sleep_the_miners() -> None:
    assert sleeps_after([START + 1, START + WINDOW + 1, START + 2 * WINDOW + 1]) == 13
    # Many updates inside the windows change nothing: still three windows.
    many = [START + w * WINDOW + s for w in range(3) for s in range(0, 290, 10)]
    assert sleeps_after(many) == 13


def test_windows_follow_the_clock_not_the_first_update() -> None:
    # 250 s apart, but three clock windows (…:04:10, …:08:20, …:12:30 style).
    assert sleeps_after([START + 200, START + 450, START + 700]) == 13
    # 200 s apart, but only two clock windows: not yet.
    assert sleeps_after([START + 10, START + 210, START + 290]) == 0


def test_zero_counts_every_new_price() -> None:
    every = replace(SETTINGS, price_window_s=0.0)
    assert sleeps_after([START + 1, START + 2, START + 3], every) == 13


@given(st.lists(st.floats(0, WINDOW - 1e-3), min_size=1, max_size=20))
def test_any_number_of_updates_in_one_window_is_one_window(offsets: list[float]) -> None:
    assert sleeps_after([START + o for o in sorted(offsets)]) == 0


def test_the_config_defaults_to_five_minute_windows() -> None:
    config = parse_config(
        {"site": "s", "devices": [{"make": "antminer", "address": "127.0.150.9"}]}
    )
    assert config.policy.to_settings().price_window_s == 300.0

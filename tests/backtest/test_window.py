"""The HIL check's window: whole intervals inside the prices, around the highest price with
an instructed event when one fits; events cut by its edges left out of both runs."""

from __future__ import annotations

import pytest

from controller.backtest import BacktestError, ProgramEvent
from controller.backtest.window import MAX_WINDOW_HOURS, choose_window
from controller.policy import EventKind
from tests.backtest.helpers import STEP, T0, inputs

PRICES = [30.0] * 40
PRICES[20] = 5000.0  # the spike, at T0 + 5 h


def _event(start_step: int, steps: int, event_id: str = "e") -> ProgramEvent:
    start = T0 + start_step * STEP
    return ProgramEvent(
        event_id=event_id,
        kind=EventKind.INSTRUCTED,
        start=start,
        end=start + steps * STEP,
        due=start + 600,
        level_mw=0.01,
    )


def test_the_default_window_holds_the_spike_and_a_whole_event() -> None:
    window, left_out = choose_window(
        inputs(PRICES, events=(_event(14, 4), _event(30, 2, "late"))), 2.0
    )
    assert window.steps == 8
    assert window.start <= T0 + 20 * STEP < window.end
    assert [e.event_id for e in window.events] == ["e"]
    assert window.start <= T0 + 14 * STEP
    assert window.end >= T0 + 18 * STEP
    assert not left_out


def test_without_an_event_the_spike_sits_in_the_middle() -> None:
    window, _ = choose_window(inputs(PRICES), 2.0)
    assert window.start == T0 + 16 * STEP


def test_an_event_cut_by_the_edge_is_left_out_of_both_runs() -> None:
    window, left_out = choose_window(inputs(PRICES, events=(_event(3, 4),)), 1.0, T0 + 5 * STEP)
    assert window.events == ()
    assert [e.event_id for e in left_out] == ["e"]
    assert window.prices.values == tuple(PRICES[5:9])


@pytest.mark.parametrize(
    ("hours", "start", "field", "words"),
    [
        (0.0, None, "--hil", "above 0"),
        (-1.0, None, "--hil", "above 0"),
        (MAX_WINDOW_HOURS + 1, None, "--hil", "at most"),
        (0.3, None, "--hil", "whole 15-minute"),
        (2.0, T0 - STEP, "--hil-start", "outside the prices"),
        (2.0, T0 + 39 * STEP, "--hil-start", "outside the prices"),
        (2.0, T0 + 60.0, "--hil-start", "boundary"),
    ],
)
def test_a_bad_window_is_one_error(
    hours: float, start: float | None, field: str, words: str
) -> None:
    with pytest.raises(BacktestError) as caught:
        choose_window(inputs(PRICES), hours, start)
    assert caught.value.field == field
    assert words in str(caught.value)

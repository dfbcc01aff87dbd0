"""The Prometheus text parser: known dcgm-exporter lines, round trips, and fuzzed input."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import ProtocolError
from drivers.gpu.parse import node_from_dcgm
from drivers.gpu.promtext import PromParseError, Sample, parse_samples, render_samples

DCGM_LINE = (
    'DCGM_FI_DEV_POWER_USAGE{gpu="3",UUID="GPU-1b2c",device="nvidia3",'
    'modelName="NVIDIA H200",Hostname="gpu-07"} 612.4'
)


def test_a_dcgm_line() -> None:
    text = "# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).\n# TYPE x gauge\n\n" + DCGM_LINE
    (sample,) = parse_samples(text)
    assert sample.name == "DCGM_FI_DEV_POWER_USAGE"
    assert sample.value == 612.4
    assert sample.label("gpu") == "3"
    assert sample.label("modelName") == "NVIDIA H200"


def test_escapes_specials_and_timestamps() -> None:
    text = 'm{a="x\\"y\\\\z\\n", b="" } NaN 1700000000\nn +Inf\no{} -1.5e3\n'
    first, second, third = parse_samples(text)
    assert first.labels == (("a", 'x"y\\z\n'), ("b", ""))
    assert math.isnan(first.value)
    assert second.value == math.inf
    assert third.value == -1500


@pytest.mark.parametrize(
    "line",
    ['{a="1"} 1', "m{a=1} 1", 'm{a="1} 1', "m 1 2 3", "m one", "m", 'm{a="1"}1', 'm{a="\\q"} 1'],
)
def test_malformed_lines_raise_with_a_line_number(line: str) -> None:
    with pytest.raises(PromParseError, match="line 2"):
        parse_samples("ok 1\n" + line)


def test_dcgm_without_gpu_samples_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        node_from_dcgm("h", "up 1\n")
    with pytest.raises(ProtocolError):
        node_from_dcgm("h", 'DCGM_FI_DEV_POWER_USAGE{gpu="0"} x\n')


_names = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,20}", fullmatch=True)
_keys = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,12}", fullmatch=True)
_samples = st.builds(
    Sample,
    _names,
    st.lists(st.tuples(_keys, st.text(max_size=20)), max_size=5, unique_by=lambda kv: kv[0]).map(
        tuple
    ),
    st.floats(allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_samples, max_size=10))
def test_render_then_parse_round_trips(samples: list[Sample]) -> None:
    assert parse_samples(render_samples(samples)) == samples


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_parses_or_raises_prom_parse_error(text: str) -> None:
    with contextlib.suppress(PromParseError):
        parse_samples(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='DCGM_FIPOWERUSAGE{}="gpu,0123456789. \n#+-eInfNa\\', max_size=200))
def test_dcgm_reader_only_raises_protocol_error(text: str) -> None:
    with contextlib.suppress(ProtocolError):
        node_from_dcgm("h", text)

"""Fuzzing the meter's decoding: any words, lengths or reply bytes give a float or a MeterError."""

from __future__ import annotations

import contextlib
import math
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.meter import (
    DataType,
    ImplausibleValue,
    MeterError,
    Register,
    RegisterKind,
    RegisterMap,
    WordOrder,
)
from drivers.meter.decode import decode_reading, decode_register, plan_reads
from drivers.meter.frames import check_reply

H = "10.0.0.9"

registers = st.builds(
    Register,
    address=st.integers(0, 1000),
    data_type=st.sampled_from(DataType),
    kind=st.sampled_from(RegisterKind),
    word_order=st.sampled_from(WordOrder),
    scale=st.sampled_from([1.0, 0.1, 100.0, 1000.0, -1.0, 1e300]),
)
any_words = st.lists(
    st.one_of(
        st.integers(0, 0xFFFF), st.integers(-(2**70), 2**70), st.none(), st.floats(), st.booleans()
    ),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(registers, any_words)
def test_decode_register_gives_a_finite_float_or_a_meter_error(
    register: Register, words: list[int]
) -> None:
    try:
        value = decode_register(register, words, host=H, quantity="q")
    except MeterError as exc:
        assert exc.host == H  # noqa: PT017 - the fuzzed call may also succeed
        return
    assert isinstance(value, float)
    assert math.isfinite(value)


@settings(max_examples=300, deadline=None)
@given(registers, st.data())
def test_right_length_words_decode_or_are_implausible(
    register: Register, data: st.DataObject
) -> None:
    words = data.draw(
        st.lists(st.integers(0, 0xFFFF), min_size=register.words, max_size=register.words)
    )
    try:
        value = decode_register(register, words, host=H, quantity="q")
    except ImplausibleValue:  # NaN or infinity; nothing else may fail on well-formed words
        return
    assert math.isfinite(value)


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e9, 1e9, allow_nan=False), st.sampled_from(WordOrder))
def test_float32_round_trip_in_either_word_order(value: float, order: WordOrder) -> None:
    words = [
        int.from_bytes(b, "big")
        for b in (struct.pack(">f", value)[:2], struct.pack(">f", value)[2:])
    ]
    if order is WordOrder.LITTLE:
        words.reverse()
    got = decode_register(
        Register(address=0, data_type=DataType.FLOAT32, word_order=order),
        words,
        host=H,
        quantity="q",
    )
    assert got == struct.unpack(">f", struct.pack(">f", value))[0]


@settings(max_examples=200, deadline=None)
@given(st.integers(-(2**31), 2**31 - 1), st.sampled_from(WordOrder))
def test_int32_round_trip_in_either_word_order(value: int, order: WordOrder) -> None:
    raw = value.to_bytes(4, "big", signed=True)
    words = [int.from_bytes(raw[:2], "big"), int.from_bytes(raw[2:], "big")]
    if order is WordOrder.LITTLE:
        words.reverse()
    got = decode_register(
        Register(address=0, data_type=DataType.INT32, word_order=order, scale=100),
        words,
        host=H,
        quantity="q",
    )
    assert got == value * 100.0


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 4), st.dictionaries(st.integers(0, 20), st.integers(0, 0xFFFF)), st.booleans()
)
def test_decode_reading_from_any_words(feeds: int, words: dict[int, int], energy: bool) -> None:
    register_map = RegisterMap.default(feeds)
    if not energy:
        register_map = RegisterMap(
            total_power=register_map.total_power, feed_power=register_map.feed_power, energy=None
        )
    keyed = {(RegisterKind.INPUT, address): word for address, word in words.items()}
    try:
        reading = decode_reading(register_map, keyed, host=H, taken_at=1.0)
    except MeterError:
        return
    assert len(reading.feeds_w) == feeds
    assert all(
        math.isfinite(v) and v >= -register_map.negative_tolerance_w
        for v in (reading.total_w, *reading.feeds_w)
    )
    assert (reading.energy_wh is None) is (not energy)


def _request(tid: int, unit: int, function: int, address: int, count: int) -> bytes:
    return (
        tid.to_bytes(2, "big")
        + b"\x00\x00\x00\x06"
        + bytes([unit, function])
        + address.to_bytes(2, "big")
        + count.to_bytes(2, "big")
    )


@settings(max_examples=500, deadline=None)
@given(
    st.binary(max_size=40),
    st.integers(0, 0xFFFF),
    st.integers(0, 255),
    st.sampled_from([3, 4]),
    st.integers(1, 125),
)
def test_check_reply_accepts_or_raises_meter_error(
    reply: bytes, tid: int, unit: int, fc: int, count: int
) -> None:
    with contextlib.suppress(MeterError):
        check_reply(_request(tid, unit, fc, 0, count), reply, host=H)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 0xFFFF),
    st.integers(1, 255),
    st.sampled_from([3, 4]),
    st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=125),
)
def test_check_reply_passes_every_prefix_of_a_good_reply(
    tid: int, unit: int, fc: int, regs: list[int]
) -> None:
    request = _request(tid, unit, fc, 0, len(regs))
    data = b"".join(r.to_bytes(2, "big") for r in regs)
    reply = (
        tid.to_bytes(2, "big")
        + b"\x00\x00"
        + (3 + len(data)).to_bytes(2, "big")
        + bytes([unit, fc, len(data)])
        + data
    )
    for end in range(len(reply) + 1):
        check_reply(request, reply[:end], host=H)
    exception = tid.to_bytes(2, "big") + b"\x00\x00\x00\x03" + bytes([unit, fc | 0x80, 2])
    check_reply(request, exception, host=H)


def test_plan_covers_every_register() -> None:
    m = RegisterMap.default(4)
    covered = {(s.kind, a) for s in plan_reads(m) for a in range(s.address, s.address + s.count)}
    needed = {(r.kind, a) for _n, r in m.named() for a in range(r.address, r.end)}
    assert needed <= covered

"""Register maps: the default layout, loading from plain data, errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.meter import DataType, Register, RegisterKind, RegisterMap, RegisterMapError, WordOrder
from drivers.meter.decode import MAX_READ_WORDS, Span, plan_reads


def test_default_layout_is_documented_and_reads_in_one_request() -> None:
    m = RegisterMap.default()
    assert m.total_power == Register(address=0, data_type=DataType.FLOAT32)
    assert m.energy == Register(address=2, data_type=DataType.UINT64)
    assert [r.address for r in m.feed_power] == [6, 8]
    assert plan_reads(m) == (Span(RegisterKind.INPUT, 0, 10),)
    assert RegisterMap.default(feeds=0).feed_power == ()
    assert len(RegisterMap.default(feeds=5).feed_power) == 5


def test_dict_round_trip() -> None:
    m = RegisterMap(
        total_power=Register(
            address=100, data_type="int32", kind="holding", word_order="little", scale=100
        ),  # type: ignore[arg-type]
        feed_power=(Register(address=200, data_type=DataType.UINT16, scale=1000),),
        energy=None,
        negative_tolerance_w=0,
    )
    assert m.total_power.data_type is DataType.INT32
    assert m.total_power.kind is RegisterKind.HOLDING
    assert m.total_power.word_order is WordOrder.LITTLE
    assert RegisterMap.from_dict(m.to_dict()) == m
    assert RegisterMap.from_dict(RegisterMap.default().to_dict()) == RegisterMap.default()


def test_default_selected_from_dict() -> None:
    assert RegisterMap.from_dict({"default": {}}) == RegisterMap.default()
    assert RegisterMap.from_dict({"default": {"feeds": 3}}) == RegisterMap.default(3)


def test_words_may_be_stated_when_they_agree() -> None:
    reg = Register.from_dict({"address": 4, "data_type": "float32", "words": 2})
    assert reg.words == 2


TOTAL = {"address": 0}


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({}, "total_power", "required"),
        ({"total_power": {"data_type": "float32"}}, "total_power.address", "required"),
        ({"total_power": {"address": -1}}, "total_power.address", "does not fit"),
        ({"total_power": {"address": 65535}}, "total_power.address", "does not fit"),
        ({"total_power": {"address": "0"}}, "total_power.address", "not an integer"),
        (
            {"total_power": {"address": 0, "data_type": "float16"}},
            "total_power.data_type",
            "float32",
        ),
        ({"total_power": {"address": 0, "kind": "coil"}}, "total_power.kind", "holding"),
        (
            {"total_power": {"address": 0, "word_order": "middle"}},
            "total_power.word_order",
            "little",
        ),
        ({"total_power": {"address": 0, "scale": 0}}, "total_power.scale", "non-zero"),
        ({"total_power": {"address": 0, "scale": "x"}}, "total_power.scale", "not a number"),
        ({"total_power": {"address": 0, "adress": 1}}, "total_power.adress", "unknown field"),
        ({"total_power": {"address": 0, "words": 4}}, "total_power.words", "does not match"),
        ({"total_power": [0]}, "total_power", "mapping"),
        (
            {"total_power": TOTAL, "feed_power": [TOTAL | {"address": 2}, {"address": "x"}]},
            "feed_power[1].address",
            "not an integer",
        ),
        ({"total_power": TOTAL, "feed_power": {"address": 2}}, "feed_power", "list"),
        (
            {"total_power": TOTAL, "feed_power": [{"address": 1}]},
            "feed_power[0]",
            "overlap total_power",
        ),
        (
            {"total_power": TOTAL, "energy": {"address": 1, "data_type": "uint64"}},
            "energy",
            "overlap",
        ),
        ({"total_power": TOTAL, "max_power_w": 0}, "max_power_w", "positive"),
        (
            {"total_power": TOTAL, "negative_tolerance_w": -1},
            "negative_tolerance_w",
            "not negative",
        ),
        ({"total_power": TOTAL, "feeds": 2}, "feeds", "unknown field"),
        ({"default": {"feeds": 99}}, "default.feeds", "outside"),
        ({"default": {"feeds": "2"}}, "default.feeds", "not an integer"),
        ({"default": {}, "energy": None}, "energy", "cannot be combined"),
        ([1, 2], "register_map", "mapping"),
    ],
)
def test_validation_errors_name_the_field(data: Any, field: str, words: str) -> None:
    with pytest.raises(RegisterMapError) as info:
        RegisterMap.from_dict(data)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)  # pydantic validators report it as a field error


def test_same_address_in_different_tables_is_not_an_overlap() -> None:
    m = RegisterMap(
        total_power=Register(address=0),
        feed_power=(Register(address=0, kind=RegisterKind.HOLDING),),
    )
    assert plan_reads(m) == (Span(RegisterKind.INPUT, 0, 2), Span(RegisterKind.HOLDING, 0, 2))


def test_plan_merges_touching_registers_only_and_respects_the_read_limit() -> None:
    gapped = RegisterMap(
        total_power=Register(address=0), feed_power=(Register(address=2), Register(address=10))
    )
    assert plan_reads(gapped) == (Span(RegisterKind.INPUT, 0, 4), Span(RegisterKind.INPUT, 10, 2))
    wide = RegisterMap(
        total_power=Register(address=0),
        feed_power=tuple(Register(address=2 + 2 * k) for k in range(80)),
    )
    spans = plan_reads(wide)
    assert all(s.count <= MAX_READ_WORDS for s in spans)
    assert sum(s.count for s in spans) == 162

"""Custom register maps against a tiny pymodbus server holding fixed words."""

from __future__ import annotations

import math
import struct

import pytest

from drivers.meter import (
    DataType,
    ImplausibleValue,
    ModbusMeter,
    Register,
    RegisterKind,
    RegisterMap,
    WordOrder,
)
from tests.meter.conftest import FIXED_HOST, fixed_server


def int32_little(value: int) -> list[int]:
    raw = value.to_bytes(4, "big", signed=True)
    return [int.from_bytes(raw[2:], "big"), int.from_bytes(raw[:2], "big")]  # low word first


def float32(value: float) -> list[int]:
    raw = struct.pack(">f", value)
    return [int.from_bytes(raw[:2], "big"), int.from_bytes(raw[2:], "big")]


async def read(
    port: int, register_map: RegisterMap
) -> tuple[float, tuple[float, ...], float | None]:
    async with ModbusMeter(
        FIXED_HOST, port=port, register_map=register_map, timeout_s=1.0
    ) as meter:
        reading = await meter.read()
    return reading.total_w, reading.feeds_w, reading.energy_wh


async def test_kw_x10_int32_little_endian_in_holding_registers() -> None:
    # 1234.5 kW total as 12345 (kW x10), feeds 600.0 and 634.5 kW, energy 98765 kWh as uint32.
    words = int32_little(12345) + int32_little(6000) + int32_little(6345) + int32_little(98765)
    register_map = RegisterMap.from_dict(
        {
            "total_power": {
                "address": 0,
                "kind": "holding",
                "data_type": "int32",
                "word_order": "little",
                "scale": 100,
            },
            "feed_power": [
                {
                    "address": 2,
                    "kind": "holding",
                    "data_type": "int32",
                    "word_order": "little",
                    "scale": 100,
                },
                {
                    "address": 4,
                    "kind": "holding",
                    "data_type": "int32",
                    "word_order": "little",
                    "scale": 100,
                },
            ],
            "energy": {
                "address": 6,
                "kind": "holding",
                "data_type": "uint32",
                "word_order": "little",
                "scale": 1000,
            },
        }
    )
    async with fixed_server(holding_registers=words) as port:
        total, feeds, energy = await read(port, register_map)
    assert total == pytest.approx(1_234_500.0)
    assert feeds == pytest.approx((600_000.0, 634_500.0))
    assert energy == pytest.approx(98_765_000.0)


async def test_big_word_order_reads_the_same_value_differently() -> None:
    words = int32_little(12345)
    little = RegisterMap(
        total_power=Register(
            address=0,
            data_type=DataType.INT32,
            kind=RegisterKind.HOLDING,
            word_order=WordOrder.LITTLE,
        )
    )
    big = RegisterMap(
        total_power=Register(
            address=0, data_type=DataType.INT32, kind=RegisterKind.HOLDING, word_order=WordOrder.BIG
        ),
        max_power_w=1e12,
    )
    async with fixed_server(holding_registers=words) as port:
        assert (await read(port, little))[0] == 12345.0
        assert (await read(port, big))[0] == float((12345 << 16) & 0xFFFFFFFF)


async def test_one_word_types_and_input_and_holding_in_one_map() -> None:
    register_map = RegisterMap(
        total_power=Register(
            address=0, data_type=DataType.UINT16, kind=RegisterKind.INPUT, scale=10
        ),  # 10 W steps
        feed_power=(
            Register(address=1, data_type=DataType.INT16, kind=RegisterKind.INPUT),
            Register(address=0, data_type=DataType.FLOAT32, kind=RegisterKind.HOLDING),
        ),
    )
    async with fixed_server(
        input_registers=[50_000, (-200) & 0xFFFF], holding_registers=float32(1_500.5)
    ) as port:
        total, feeds, energy = await read(port, register_map)
    assert total == 500_000.0
    assert feeds == (-200.0, 1_500.5)  # slightly negative: within the tolerance
    assert energy is None


@pytest.mark.parametrize(
    ("words", "register_map", "quantity"),
    [
        (float32(math.nan), RegisterMap(total_power=Register(address=0)), "total_power"),
        (float32(math.inf), RegisterMap(total_power=Register(address=0)), "total_power"),
        (
            float32(-50_000.0),
            RegisterMap(total_power=Register(address=0)),
            "total_power",
        ),  # a site does not export 50 kW
        (
            float32(3e9),
            RegisterMap(total_power=Register(address=0)),
            "total_power",
        ),  # nor draw 3 GW
        (
            float32(1.0) + float32(-5_000.0),
            RegisterMap(total_power=Register(address=0), feed_power=(Register(address=2),)),
            "feed_power[0]",
        ),
        (
            [0, *int32_little(-5)],
            RegisterMap(
                total_power=Register(address=0, data_type=DataType.INT16),
                energy=Register(address=1, data_type=DataType.INT32),
            ),
            "energy",
        ),
    ],
)
async def test_impossible_values_are_typed_errors(
    words: list[int], register_map: RegisterMap, quantity: str
) -> None:
    async with fixed_server(input_registers=words) as port:
        with pytest.raises(ImplausibleValue) as info:
            await read(port, register_map)
    assert info.value.quantity == quantity
    assert info.value.code == "implausible"


async def test_gapped_map_reads_in_two_requests() -> None:
    words = [*float32(100.0), 0, 0, 0, 0, *float32(40.0)]
    register_map = RegisterMap(total_power=Register(address=0), feed_power=(Register(address=6),))
    async with fixed_server(input_registers=words) as port:
        total, feeds, _energy = await read(port, register_map)
    assert (total, feeds) == (100.0, (40.0,))

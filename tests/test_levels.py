from __future__ import annotations

import json

import pytest

from scaler.levels import (
    calibrate,
    largest_fitting_offset,
    level_offsets,
    offset_range,
    with_bases,
)
from scaler.model import ScaleParam
from tests.conftest import OFFICIAL_POOL, require_shared


def test_reproduces_every_official_difficulty_table() -> None:
    pool = json.loads(require_shared(OFFICIAL_POOL).read_text())
    for name, entry in pool.items():
        table = entry["difficulty_dict"]
        expected = tuple(table[str(i)] for i in range(len(table)))
        assert level_offsets(entry["scale_range"]) == expected, name


@pytest.mark.parametrize(
    ("s_max", "count", "last"),
    [(0, 1, 0), (9, 10, 9), (39, 30, 38), (99, 30, 96), (299, 23, 299), (10000, 21, 10000)],
)
def test_level_counts_and_ends(s_max: int, count: int, last: int) -> None:
    offsets = level_offsets(s_max)
    assert (len(offsets), offsets[0], offsets[-1]) == (count, 0, last)
    assert list(offsets) == sorted(offsets)


def test_short_ranges_are_arithmetic_without_repeats() -> None:
    offsets = level_offsets(49)
    assert len(set(offsets)) == len(offsets) == 30


def test_bases_follow_the_narrowest_parameter() -> None:
    params = [ScaleParam("n", 1, 101), ScaleParam("m", 0, 50_000)]
    based = with_bases(params)
    assert offset_range(params) == 100
    assert [p.base for p in based] == [1.0, 100.0]
    assert [p.value_at(100) for p in based] == [101, 10_000]


def test_fixed_parameter_has_zero_range() -> None:
    (p,) = with_bases([ScaleParam("n", 5, 5)])
    assert p.base == 0.0 and p.value_at(0) == 5


@pytest.mark.parametrize("limit", [0, 1, 17, 4999, 10_000])
def test_binary_search_finds_largest_fitting(limit: int) -> None:
    probed: list[int] = []

    def fits(s: int) -> bool:
        probed.append(s)
        return s <= limit

    assert largest_fitting_offset(fits, 10_000) == limit
    assert len(probed) <= 15


def test_calibrate_stops_at_the_budget() -> None:
    params = [ScaleParam("n", 1, 100_000)]
    based, levels = calibrate(params, lambda p: 5 * p["n"], budget=2048)
    assert based[0].value_at(levels[-1]) * 5 <= 2048 < based[0].value_at(levels[-1] + 1) * 5

"""Benchmark rows in verl's schema, as ``scaler eval --bench`` reads them from parquet.

A file either becomes a Benchmark whose questions can be listed and scored, or a ScalerError
that names the file (and, for bad rows, the row and the field), before any model time is spent.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import example, given
from hypothesis import strategies as st

from scaler.errors import ScalerError
from scaler.evaluate.answers import KINDS
from scaler.evaluate.benchmarks import Benchmark, load_benchmark
from tests.conftest import SHARED
from tests.fuzz.strategies import damaged, file_holding, mutated, one_of_seeds

EVAL = SHARED / "data" / "eval"


def _built_row() -> dict[str, Any]:
    return {
        "data_source": "think_MATH-500",
        "prompt": [
            {"role": "system", "content": "Put your final answer within \\boxed{}."},
            {"role": "user", "content": "What is 1 + 1?"},
        ],
        "reward_model": {"ground_truth": "\\boxed{2}"},
        "extra_info": {"index": 0},
    }


def _shared_rows() -> list[dict[str, Any]]:
    """The first row of every shared evaluation file, where the data is present."""
    files = sorted(EVAL.glob("*.parquet")) if EVAL.is_dir() else []
    return [pq.read_table(file).slice(0, 1).to_pylist()[0] for file in files]


ROW_SEEDS = [_built_row(), *_shared_rows()]


def _written(rows: list[dict[str, Any]]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue().to_pybytes()


def parquet_bytes(rows: list[Any]) -> bytes:
    """The rows as a parquet file. Rows pyarrow cannot type or write as they are (a field that
    is a string in one row and a list in the next, an empty struct) are stored with every value
    as JSON text, as a careless export stores nested data. A parquet row is always a mapping."""
    rows = [row if isinstance(row, dict) else {"data_source": row} for row in rows]
    try:
        return _written(rows)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        columns = sorted({key for row in rows for key in row})
        return _written([{k: json.dumps(row.get(k), default=str) for k in columns} for row in rows])


rows_lists = st.lists(one_of_seeds(ROW_SEEDS).flatmap(mutated), min_size=1, max_size=4)


def loaded(content: bytes) -> Benchmark | ScalerError:
    with file_holding(content, "bench.parquet") as path:
        try:
            benchmark = load_benchmark(path)
        except ScalerError as exc:
            assert str(exc).startswith(str(path))
            return exc
    for item in benchmark.items:
        assert item.kind in KINDS and item.repeats >= 1
        assert any(message["role"] == "user" for message in item.prompt)
    return benchmark


@given(rows_lists.map(parquet_bytes))
@example(  # a role that is a struct: TypeError (unhashable dict) in the role check
    parquet_bytes([{**_built_row(), "prompt": [{"role": {"a": 1}, "content": "Hi?"}]}])
)
def test_benchmark_file_is_questions_or_names_file_row_and_field(content: bytes) -> None:
    result = loaded(content)
    if isinstance(result, ScalerError) and ", row " in str(result):
        assert "field '" in str(result)


@given(rows_lists.map(parquet_bytes).flatmap(damaged))
def test_damaged_benchmark_file_is_refused_or_read(content: bytes) -> None:
    loaded(content)

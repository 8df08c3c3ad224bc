"""Benchmark files in verl's row schema, read and checked before any model time is spent on them.

A row is ``data_source``, ``prompt`` (chat messages), ``reward_model.ground_truth`` and
``extra_info``. Some released files (AIME24, AMC23, MMLU-Pro) repeat every question 16 times so
that verl's validation computes avg@16; :attr:`Benchmark.items` folds the repeats back into one
question with a ``repeats`` count, so the evaluator decides how many samples to draw (avg@k) and
a question is never scored as 16 independent ones by accident.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from scaler.errors import ScalerError
from scaler.evaluate.answers import kind_for

#: Data-source prefixes the released files put before the benchmark name.
SOURCE_PREFIXES: tuple[str, ...] = ("think_", "option_")
#: At most this many bad rows are named in one error; the count says how many there are.
MAX_REPORTED = 10
ROLES: frozenset[str] = frozenset({"system", "user", "assistant"})


@attrs.frozen
class Row:
    """One row of a benchmark file, as stored."""

    index: int
    data_source: str
    prompt: tuple[dict[str, str], ...]
    ground_truth: str
    extra_info: dict[str, Any]


@attrs.frozen
class Item:
    """One distinct question: the rows that repeat it are counted in ``repeats``."""

    index: int
    data_source: str
    prompt: tuple[dict[str, str], ...]
    ground_truth: str
    kind: str
    repeats: int
    rows: tuple[int, ...]


@attrs.frozen
class Benchmark:
    """A benchmark file's rows and name (the data source without ``think_``/``option_``)."""

    name: str
    path: str
    rows: tuple[Row, ...]

    @property
    def items(self) -> list[Item]:
        """The distinct questions, in file order. Rows are the same question when the prompt
        and the reference answer are both identical; a prompt repeated with a different answer
        (BBEH has one) stays two questions."""
        order: dict[tuple[str, str, str], list[Row]] = {}
        for row in self.rows:
            key = (row.data_source, json.dumps(row.prompt, sort_keys=True), row.ground_truth)
            order.setdefault(key, []).append(row)
        items = []
        for number, group in enumerate(order.values()):
            first = group[0]
            items.append(
                Item(
                    index=number,
                    data_source=first.data_source,
                    prompt=first.prompt,
                    ground_truth=first.ground_truth,
                    kind=kind_for(first.data_source, first.ground_truth),
                    repeats=len(group),
                    rows=tuple(row.index for row in group),
                )
            )
        return items


def _check_prompt(value: Any) -> str | None:
    """What is wrong with a row's prompt, or None."""
    if not isinstance(value, (list, tuple)) or not value:
        return "is not a non-empty list of chat messages"
    for number, message in enumerate(value):
        if not isinstance(message, dict):
            return f"message {number} is not a mapping"
        role = message.get("role")
        if not isinstance(role, str) or role not in ROLES:
            return f"message {number} has role {role!r}, not one of {sorted(ROLES)}"
        if not isinstance(message.get("content"), str) or not message["content"].strip():
            return f"message {number} has no text content"
    if not any(message["role"] == "user" for message in value):
        return "has no user message"
    return None


def _row(path: str, index: int, raw: dict[str, Any], problems: list[str]) -> Row | None:
    def bad(field: str, message: str) -> None:
        problems.append(f"{path}, row {index}, field {field!r}: {message}")

    source = raw.get("data_source")
    if not isinstance(source, str) or not source.strip():
        bad("data_source", f"is {source!r}, not a non-empty string")
    prompt = raw.get("prompt")
    if (problem := _check_prompt(prompt)) is not None:
        bad("prompt", problem)
    reward = raw.get("reward_model")
    truth = reward.get("ground_truth") if isinstance(reward, dict) else None
    if not isinstance(truth, str) or not truth.strip():
        bad("reward_model.ground_truth", f"is {truth!r}, not a non-empty string")
    extra = raw.get("extra_info")
    if extra is not None and not isinstance(extra, dict):
        bad("extra_info", f"is a {type(extra).__name__}, not a mapping")
    if problems and problems[-1].startswith(f"{path}, row {index},"):
        return None
    return Row(
        index=index,
        data_source=str(source),
        prompt=tuple(
            {"role": str(m["role"]), "content": str(m["content"])}
            for m in prompt  # type: ignore[union-attr]  # a list of mappings: _check_prompt said so
        ),
        ground_truth=str(truth),
        extra_info=dict(extra or {}),
    )


def benchmark_name(sources: Sequence[str], path: Path) -> str:
    """``think_MATH-500`` -> ``MATH-500``; the file's stem where rows mix data sources."""
    distinct = sorted(set(sources))
    if len(distinct) != 1:
        return path.stem
    name = distinct[0]
    for prefix in SOURCE_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def load_benchmark(path: str | Path) -> Benchmark:
    """Read a verl-schema parquet file; every bad row is named (file, row, field) in the error."""
    path = Path(path)
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ScalerError(
            f"{path}: reading parquet needs pyarrow: pip install 'scaler[parquet]'"
        ) from exc
    try:
        table = pq.read_table(path)
    except FileNotFoundError as exc:
        raise ScalerError(f"{path}: no such benchmark file") from exc
    except Exception as exc:  # pyarrow raises several types for a file that is not parquet
        raise ScalerError(f"{path}: not a readable parquet file ({exc})") from exc
    missing = [c for c in ("data_source", "prompt", "reward_model") if c not in table.column_names]
    if missing:
        raise ScalerError(
            f"{path}: missing column(s) {', '.join(missing)}; verl's row schema has "
            "data_source, prompt, reward_model.ground_truth and extra_info"
        )
    if table.num_rows == 0:
        raise ScalerError(f"{path}: has no rows")
    problems: list[str] = []
    rows = [_row(str(path), i, raw, problems) for i, raw in enumerate(table.to_pylist())]
    if problems:
        shown = "\n  ".join(problems[:MAX_REPORTED])
        more = (
            f"\n  ... and {len(problems) - MAX_REPORTED} more"
            if len(problems) > MAX_REPORTED
            else ""
        )
        raise ScalerError(f"{path}: {len(problems)} bad row field(s):\n  {shown}{more}")
    good = tuple(row for row in rows if row is not None)
    return Benchmark(
        name=benchmark_name([row.data_source for row in good], path), path=str(path), rows=good
    )

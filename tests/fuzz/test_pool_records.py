"""Pool records: the native JSONL format and the official SCALER JSON.

A record either becomes an environment that is usable as it stands (it reads back equal from
its own dict, and every level's parameters can be computed), or it is refused with a PoolError
that names the file; an official entry that cannot convert is a rejection with a reason, and
what does convert must load as a native record, so ``scaler pool import`` never writes a pool
that ``load_pool`` refuses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaler.errors import PoolError
from scaler.model import EnvSpec
from scaler.official_pool import ImportResult, import_official
from scaler.pool import env_from_dict, load_pool, write_pool
from tests.fuzz.seeds import NATIVE_SEEDS, OFFICIAL_SEEDS
from tests.fuzz.strategies import (
    damaged,
    file_holding,
    json_bytes,
    json_document,
    mutated,
    one_of_seeds,
)
from tests.test_official_pool import _entry
from tests.test_pool import record


def assert_usable(env: EnvSpec) -> None:
    """What a training run does first with an environment must work for an accepted one."""
    assert env_from_dict(json.loads(json.dumps(env.to_dict(), allow_nan=False))) == env
    for level in range(len(env.levels)):
        assert all(isinstance(v, int) for v in env.params_at(level).values())


def native_record(data: Any) -> EnvSpec | PoolError:
    try:
        return env_from_dict(data, "pool.jsonl", 7)
    except PoolError as exc:
        assert (exc.path, exc.line) == ("pool.jsonl", 7)
        assert str(exc).startswith("pool.jsonl, line 7:")
        return exc


@given(one_of_seeds(NATIVE_SEEDS).flatmap(mutated))
def test_native_record_is_an_environment_or_a_located_error(data: Any) -> None:
    result = native_record(data)
    if isinstance(result, EnvSpec):
        assert_usable(result)
    elif isinstance(data, dict):
        assert result.field is not None, "a refused object names the field"


def _pool_file(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


native_files = st.lists(
    one_of_seeds(NATIVE_SEEDS).flatmap(json_document), min_size=1, max_size=3
).map(_pool_file)


@given(native_files | native_files.flatmap(damaged))
def test_native_pool_file_loads_whole_or_names_file_and_line(content: bytes) -> None:
    with file_holding(content, "pool.jsonl") as path:
        try:
            envs = load_pool(path)
        except PoolError as exc:
            assert exc.path == str(path) and str(exc).startswith(str(path))
            lines = content.count(b"\n") + 1
            assert exc.line is None or 1 <= exc.line <= lines
            return
        for env in envs:
            assert_usable(env)


def imported(path: Path) -> ImportResult | PoolError:
    try:
        return import_official(path)
    except PoolError as exc:
        assert exc.path == str(path) and str(exc).startswith(str(path))
        return exc


@given(one_of_seeds(OFFICIAL_SEEDS).flatmap(json_document))
def test_official_import_converts_to_loadable_envs_or_rejects_with_reasons(
    content: bytes,
) -> None:
    with file_holding(content, "pool.json") as path:
        result = imported(path)
        if isinstance(result, PoolError):
            return
        for rejection in result.rejected:
            assert rejection.reason.strip()
        if result.envs:
            write_pool(result.envs, path.parent / "out.jsonl")
            assert load_pool(path.parent / "out.jsonl") == list(result.envs)
        for env in result.envs:
            assert_usable(env)


@given(
    one_of_seeds(OFFICIAL_SEEDS).flatmap(lambda pool: mutated(next(iter(pool.values())), most=4)),
    st.booleans(),
)
def test_official_entry_deep_mutations(entry: Any, ascii_only: bool) -> None:
    """One entry with up to four changes, so checks after the first few fields are reached."""
    with file_holding(json_bytes({"entry": entry}, ascii_only), "pool.json") as path:
        result = imported(path)
        if isinstance(result, PoolError):
            assert not ascii_only, "an object of one entry is a readable pool"
            return
        assert len(result.envs) + len(result.rejected) == 1
        for env in result.envs:
            assert_usable(env)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"statement": "\ud800"}, "statement"),  # loaded; its version hash raised
        ({"limits": {"cpu_s": float("nan")}}, "limits.cpu_s"),  # loaded; no sandbox takes it
        ({"limits": {"wall_s": 10**400}}, "limits.wall_s"),  # OverflowError
        ({"scale_params": [{"name": "n", "min": 1, "max": 9, "base": 1e308}]}, "scale_params[0]"),
        ({"levels": [0, 10**400]}, "scale_params[0]"),  # params_at raised OverflowError
    ],
)
def test_native_records_that_crashed_are_refused(changes: dict[str, Any], field: str) -> None:
    result = native_record(record(**changes))
    assert isinstance(result, PoolError) and result.field == field


@pytest.mark.parametrize(
    "content",
    [b"\x80null\n", b"[" * 20_000 + b"\n"],  # UnicodeDecodeError, RecursionError
)
def test_native_files_that_crashed_are_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "pool.jsonl").write_bytes(content)
    with pytest.raises(PoolError, match=r"pool.jsonl, line 1: (is not UTF-8|nests JSON)"):
        load_pool(tmp_path / "pool.jsonl")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"solutions": []}, "solutions must be an object"),  # AttributeError
        ({"solutions": {"solution": 1, "language": 1}}, "must be lists"),  # TypeError
        ({"solutions": {"solution": ["x"], "language": [[3]]}}, "no C++"),  # unhashable
        ({"params": []}, "params must be an object"),  # AttributeError
        ({"params": {"n": {"min": 1, "max": 2, "base": None}}}, "base must be a finite"),
        ({"params": {"n": {"min": 1, "max": 2, "base": 10**400}}}, "base must be a finite"),
        ({"difficulty_dict": {"0": float("inf")}}, "values must be integers"),  # OverflowError
        ({"name": "!!!"}, None),  # the id fell back to '' and the pool could not be loaded
        ({"params": {"n": {"min": 5, "max": 2}}}, "must be >= min"),  # written, then unloadable
        ({"difficulty_dict": {"0": 5, "1": -3}}, "'levels'"),  # written, then unloadable
        ({"instruction": "\ud800"}, "lone surrogate"),  # write_pool raised UnicodeEncodeError
    ],
)
def test_official_entries_that_crashed_convert_or_are_rejected(
    tmp_path: Path, changes: dict[str, Any], reason: str | None
) -> None:
    path = tmp_path / "pool.json"
    path.write_bytes(json_bytes({"bad": _entry(**changes)}, ensure_ascii=True))
    result = import_official(path)
    if reason is None:
        (env,) = result.envs
        assert env.id == "bad"
        assert_usable(env)
    else:
        (rejection,) = result.rejected
        assert reason in rejection.reason


@pytest.mark.parametrize("content", [b"\x80{}", b"[" * 20_000])
def test_official_files_that_crashed_are_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "pool.json").write_bytes(content)
    with pytest.raises(PoolError, match=r"pool.json: (is not UTF-8|nests JSON)"):
        import_official(tmp_path / "pool.json")

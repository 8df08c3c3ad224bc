from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scaler.errors import PoolError
from scaler.pool import env_from_dict, load_pool, write_pool
from tests.test_model import make_env


def record(**changes: Any) -> dict[str, Any]:
    data = make_env().to_dict()
    del data["version"]
    data.update(changes)
    return data


def write_lines(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_round_trip(tmp_path: Path) -> None:
    envs = [make_env(), make_env(id="other")]
    assert write_pool(envs, tmp_path / "p.jsonl") == 2
    assert load_pool(tmp_path / "p.jsonl") == envs


def test_directory_of_pools(tmp_path: Path) -> None:
    write_pool([make_env()], tmp_path / "a.jsonl")
    write_pool([make_env(id="b")], tmp_path / "b.jsonl")
    assert [e.id for e in load_pool(tmp_path)] == ["double", "b"]


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"output_spec": ""}, "output_spec", ""),
        ({"levels": [0, 5, 3]}, "levels", [0, 5, 3]),
        ({"levels": []}, "levels", []),
        ({"scale_params": []}, "scale_params", []),
        ({"scale_params": [{"name": "n", "min": 5, "max": 1}]}, "scale_params[0].max", 1),
        ({"scale_params": [{"name": "n", "min": "1", "max": 9}]}, "scale_params[0].min", "1"),
        ({"solutions": [{"language": "java", "source": "x"}]}, "solutions[0].language", "java"),
        ({"generator_contract": "magic"}, "generator_contract", "magic"),
        ({"limits": {"cpu_s": -1}}, "limits.cpu_s", -1.0),
        ({"id": "has space"}, "id", "has space"),
        ({"version": "0000"}, "version", "0000"),
    ],
)
def test_bad_record_names_file_line_field_value(
    tmp_path: Path, changes: dict[str, Any], field: str, value: Any
) -> None:
    path = write_lines(tmp_path / "p.jsonl", [record(), record(**{"id": "second", **changes})])
    with pytest.raises(PoolError) as info:
        load_pool(path)
    err = info.value
    assert (err.path, err.line, err.field, err.value) == (str(path), 2, field, value)
    assert f"{path}, line 2" in str(err) and repr(field) in str(err)


def test_missing_field(tmp_path: Path) -> None:
    data = record()
    del data["statement"]
    with pytest.raises(PoolError, match="'statement' is missing"):
        load_pool(write_lines(tmp_path / "p.jsonl", [data]))


def test_invalid_json_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(record()) + "\n{not json\n")
    with pytest.raises(PoolError, match=r"line 2: is not valid JSON"):
        load_pool(path)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PoolError, match="repeats an id"):
        load_pool(write_lines(tmp_path / "p.jsonl", [record(), record()]))


def test_missing_and_empty_pools(tmp_path: Path) -> None:
    with pytest.raises(PoolError, match="does not exist"):
        load_pool(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(PoolError, match="holds no environments"):
        load_pool(tmp_path / "empty.jsonl")


def test_non_object_record() -> None:
    with pytest.raises(PoolError, match="expected a JSON object"):
        env_from_dict([1, 2], "x.jsonl", 3)


def test_write_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "p.jsonl"
    write_pool([make_env()], target)

    def broken():
        yield make_env(id="new")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_pool(broken(), target)
    assert [e.id for e in load_pool(target)] == ["double"]
    assert [p.name for p in tmp_path.iterdir()] == ["p.jsonl"]

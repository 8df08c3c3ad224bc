from __future__ import annotations

import json
from pathlib import Path

import pytest

from scaler.errors import PoolError
from scaler.official_pool import import_official, slug
from tests.conftest import OFFICIAL_POOL, require_shared


def test_imports_every_sample_environment() -> None:
    result = import_official(require_shared(OFFICIAL_POOL))
    raw = json.loads(OFFICIAL_POOL.read_text())
    assert result.rejected == ()
    assert len(result.envs) == len(raw) == 8
    for env in result.envs:
        entry = raw[env.name]
        assert env.id == slug(entry["name"])
        assert env.generator_contract == "scaler-official"
        assert len(env.levels) == len(entry["difficulty_dict"])
        assert env.output_spec == entry["instruction"].strip()
        assert "\nInput\n" not in env.statement
        langs = [lang for lang in entry["solutions"]["language"] if lang in (2, 3)]
        assert [s.language for s in env.solutions] == [
            {2: "cpp", 3: "python"}[lang] for lang in langs
        ]
        assert {p.name for p in env.scale_params} == set(entry["params"]) - {"difficulty"}


def test_level_values_follow_min_and_base() -> None:
    result = import_official(require_shared(OFFICIAL_POOL))
    env = next(e for e in result.envs if e.id == "1003_f-abbreviation")
    assert env.params_at(0) == {"n": 1}
    assert env.params_at(env.max_level) == {"n": 300}


def _entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": "1_A. Toy",
        "solutions": {"solution": ["print(1)"], "language": [3]},
        "instruction": "Print one integer.",
        "generate_testcase": "def generate_testcase(json_obj):\n    return '1', {}\n",
        "output_type": "number",
        "is_output_unique": True,
        "difficulty_dict": {"0": 0, "1": 1},
        "params": {"n": {"min": 1, "max": 2, "base": 1.0}, "difficulty": {}},
        "logic_description": "Toy.",
    }
    entry.update(changes)
    return entry


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"solutions": {"solution": ["class A {}"], "language": [4]}}, "no C++ (2) or Python 3"),
        ({"output_type": "graph"}, "output_type 'graph'"),
        ({"is_output_unique": False}, "is_output_unique is false"),
        ({"params": {"difficulty": {}}}, "no scale parameters"),
        ({"params": {"n": {"min": 1}}}, "params.n needs min and max"),
        ({"difficulty_dict": {"0": 0, "2": 1}}, "difficulty_dict keys"),
        ({"generate_testcase": "print(1)"}, "does not define generate_testcase"),
        ({"instruction": "  "}, "instruction"),
    ],
)
def test_rejections_carry_reasons(tmp_path: Path, changes: dict[str, object], reason: str) -> None:
    path = tmp_path / "pool.json"
    path.write_text(json.dumps({"good": _entry(), "bad": _entry(name="2_B. Bad", **changes)}))
    result = import_official(path)
    assert [e.id for e in result.envs] == ["1_a-toy"]
    (rejection,) = result.rejected
    assert rejection.key == "bad" and reason in rejection.reason


def test_unreadable_file_is_a_pool_error(tmp_path: Path) -> None:
    path = tmp_path / "pool.json"
    path.write_text("[1, 2")
    with pytest.raises(PoolError, match="not valid JSON"):
        import_official(path)
    path.write_text("[1, 2]")
    with pytest.raises(PoolError, match="JSON object keyed by environment name"):
        import_official(path)

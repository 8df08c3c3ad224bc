from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scaler.default_plugins.sources import scaler_register_sources
from scaler.errors import PoolError, ScalerError
from scaler.official_pool import OFFICIAL_LIMITS, statement_narrative
from scaler.synth.problem import Problem, SourceResult
from scaler.synth.sources import (
    CODEIO_CONTRACT,
    CodeContestsSource,
    CodeIOSource,
    OfficialSource,
    ProblemSource,
    codeio_stdin,
)
from tests.conftest import OFFICIAL_POOL, require_shared

STATEMENT = "Sum two numbers.\n\nInput\n\nTwo integers a and b.\n\nOutput\n\nTheir sum.\n"


def _cc(name: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": name,
        "description": STATEMENT,
        "solutions": {
            "language": [2, 3, 4, 1],
            "solution": ["int main(){}", "print(1)", "class A {}", "print 1"],
        },
        "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
        "private_tests": {"input": ["2 2\n", "0 0\n"], "output": ["4\n", "0\n"]},
        "time_limit": {"seconds": 2, "nanos": 500000000},
        "memory_limit_bytes": 256 * 2**20,
    }
    record.update(fields)
    return record


GOOD = [
    _cc("1000_A. Alpha"),
    # Only Java: kept with no solutions, the pre-filter decides later.
    _cc("1000_B. Java only", solutions={"language": [4], "solution": ["class B {}"]}),
    # No name: the id stands in; no limits or tests given.
    {"id": "cc-3", "description": STATEMENT, "solutions": {"language": [3], "solution": ["x"]}},
]
BAD_LINES = [
    "{not json",
    "[1, 2]",
    json.dumps({"name": "no description"}),
    json.dumps(_cc("mismatch", solutions={"language": [2, 3], "solution": ["a"]})),
    json.dumps(_cc("bad tests", public_tests={"input": ["1"], "output": []})),
    json.dumps(_cc("bad language", solutions={"language": ["CPP"], "solution": ["a"]})),
    json.dumps(_cc("1000_A. Alpha")),
]


def _write_jsonl(path: Path) -> Path:
    lines = [json.dumps(r) for r in GOOD[:2]] + [""] + [json.dumps(GOOD[2])] + BAD_LINES
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _check_good(result: SourceResult, file: str, origins: list[str]) -> None:
    alpha, java, unnamed = result.problems
    assert [p.id for p in result.problems] == ["1000_A. Alpha", "1000_B. Java only", "cc-3"]
    assert [p.origin for p in result.problems] == [f"{file}#{o}" for o in origins]
    assert all(p.source == "codecontests" and p.declared is None for p in result.problems)
    assert alpha.statement == STATEMENT
    assert [(s.language, s.source) for s in alpha.solutions] == [
        ("cpp", "int main(){}"),
        ("python", "print(1)"),
    ]
    assert alpha.tests == (("1 2\n", "3\n"), ("2 2\n", "4\n"), ("0 0\n", "0\n"))
    assert (alpha.limits.cpu_s, alpha.limits.wall_s, alpha.limits.memory_mb) == (2.5, 5.0, 256)
    assert java.solutions == ()
    assert unnamed.name == "cc-3" and unnamed.tests == ()
    assert [s.language for s in unnamed.solutions] == ["python"]
    assert unnamed.limits == Problem("x", "x", "", (), "s").limits


def test_codecontests_jsonl_keeps_good_records_and_names_bad_ones(tmp_path: Path) -> None:
    result = CodeContestsSource().read(_write_jsonl(tmp_path / "cc.jsonl"))
    _check_good(result, "cc.jsonl", ["1", "2", "4"])
    where = [r.where for r in result.rejected]
    assert where == [f"cc.jsonl, line {n}" for n in range(5, 12)]
    reasons = [r.reason for r in result.rejected]
    assert reasons[0].startswith("not valid JSON")
    assert reasons[1] == "record is a list, not an object"
    assert reasons[2] == "missing field 'description'"
    assert "'solutions.language' has 2 items but 'solutions.solution' has 1" in reasons[3]
    assert "'public_tests.input' has 1 items" in reasons[4]
    assert "solutions.language[0]" in reasons[5] and "'CPP'" in reasons[5]
    assert reasons[6] == "id '1000_A. Alpha' repeats cc.jsonl, line 1"


def test_codecontests_reads_gzip_and_folders(tmp_path: Path) -> None:
    plain = _write_jsonl(tmp_path / "a.jsonl")
    folder = tmp_path / "shards"
    folder.mkdir()
    (folder / "1.jsonl.gz").write_bytes(gzip.compress(plain.read_bytes()))
    (folder / "2.jsonl").write_text(json.dumps(_cc("2000_Z. Late")) + "\n")
    (folder / "notes.txt").write_text("ignored")
    result = CodeContestsSource().read(folder)
    assert [p.id for p in result.problems][-1] == "2000_Z. Late"
    assert result.problems[-1].origin == "2.jsonl#1"
    _check_good(SourceResult(result.problems[:3]), "1.jsonl.gz", ["1", "2", "4"])
    assert len(result.rejected) == len(BAD_LINES)


def test_codecontests_unreadable_files_raise_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(PoolError, match=r"missing\.jsonl: does not exist"):
        CodeContestsSource().read(tmp_path / "missing.jsonl")
    (tmp_path / "broken.jsonl.gz").write_bytes(b"not gzip at all")
    with pytest.raises(PoolError, match=r"broken\.jsonl\.gz: .*gzip"):
        CodeContestsSource().read(tmp_path / "broken.jsonl.gz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PoolError, match=r"empty: holds no \.jsonl"):
        CodeContestsSource().read(tmp_path / "empty")


def test_codecontests_parquet(tmp_path: Path) -> None:
    if importlib.util.find_spec("pyarrow") is None:
        pytest.skip("pyarrow is not installed: pip install 'scaler[parquet]'")
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        *(dict(r) for r in GOOD),
        _cc("no description", description=None),
        _cc("mismatch", solutions={"language": [2, 3], "solution": ["a"]}),
    ]
    # The unnamed record: a Parquet column holds a null where JSON Lines has no key.
    rows[2].update(name=None, time_limit=None, public_tests=None, private_tests=None)
    rows[2]["memory_limit_bytes"] = 0  # CodeContests' "not stated"
    for row in rows:
        row.setdefault("id", None)
        row["generated_tests"] = {"input": ["9"], "output": ["9"]}  # a column not read
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "cc.parquet")

    result = CodeContestsSource().read(tmp_path / "cc.parquet")
    _check_good(result, "cc.parquet", ["0", "1", "2"])
    assert [(r.where, r.reason) for r in result.rejected] == [
        ("cc.parquet, row 3", "missing field 'description'"),
        ("cc.parquet, row 4", "'solutions.language' has 2 items but 'solutions.solution' has 1"),
    ]
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 nonsense")
    with pytest.raises(PoolError, match=r"bad\.parquet: is not a readable Parquet file"):
        CodeContestsSource().read(tmp_path / "bad.parquet")


def test_parquet_without_pyarrow_says_which_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    (tmp_path / "cc.parquet").write_bytes(b"")
    with pytest.raises(ScalerError, match=r"pip install 'scaler\[parquet\]'"):
        CodeContestsSource().read(tmp_path / "cc.parquet")


def test_official_pool_declares_its_metadata() -> None:
    path = require_shared(OFFICIAL_POOL)
    raw = json.loads(path.read_text(encoding="utf-8"))
    result = OfficialSource().read(path)
    assert result.rejected == ()
    assert [p.id for p in result.problems] == [e["name"] for e in raw.values()]
    for (key, entry), problem in zip(raw.items(), result.problems, strict=True):
        declared = problem.declared
        assert declared is not None
        assert problem.origin == f"SCALER-8.json#{key}"
        assert problem.source == "scaler-official" and problem.limits == OFFICIAL_LIMITS
        assert problem.statement == entry["raw_description"]
        assert declared.narrative == statement_narrative(entry)
        assert declared.output_spec == entry["instruction"].strip()
        assert declared.output_type == entry["output_type"]
        assert declared.is_output_unique is entry["is_output_unique"]
        assert declared.generator is not None
        assert declared.generator.source == entry["generate_testcase"]
        assert declared.generator_contract == "scaler-official"
        table = entry["difficulty_dict"]
        assert declared.levels == tuple(table[str(i)] for i in range(len(table)))
        params = {k: v for k, v in entry["params"].items() if k != "difficulty"}
        assert declared.scale_params is not None
        assert [(p.name, p.min, p.max, p.base) for p in declared.scale_params] == [
            (k, v["min"], v["max"], v["base"]) for k, v in params.items()
        ]
        languages = entry["solutions"]["language"]
        assert len(problem.solutions) == sum(lang in (2, 3) for lang in languages)
    by_id = {p.id: p for p in result.problems}
    downloading = by_id["883_C. Downloading B++"].declared
    assert downloading is not None and downloading.scale_params is not None
    assert [(p.name, p.min, p.max) for p in downloading.scale_params] == [
        ("f", 1, 10001),
        ("a1", 1, 10001),
        ("a2", 1, 10001),
    ]
    assert by_id["1003_F. Abbreviation"].declared.levels[:4] == (0, 1, 2, 2)  # type: ignore[union-attr]


def _official_entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": "1_A. Sum",
        "logic_description": "Sum two numbers.",
        "raw_description": STATEMENT,
        "solutions": {"language": [2, 3], "solution": ["int main(){}", "print(3)"]},
        "instruction": "Their sum.",
        "generate_testcase": "def generate_testcase(json_obj):\n    return '1 2', {}\n",
        "scale_range": 10,
        "output_type": "number",
        "is_output_unique": True,
        "difficulty_dict": {"0": 0, "1": 4, "2": 9},
        "params": {"n": {"min": 1, "max": 10, "base": 1.0}, "difficulty": {"version": 1}},
    }
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


def test_official_broken_entries_are_rejected_with_reasons(tmp_path: Path) -> None:
    pool = {
        "good": _official_entry(),
        "not an object": [1],
        "no generator": _official_entry(name="2_B", generate_testcase=None),
        "backwards": _official_entry(name="3_C", params={"n": {"min": 9, "max": 1}}),
        "gap": _official_entry(name="4_D", difficulty_dict={"0": 0, "2": 5}),
        "float": _official_entry(name="5_E", params={"n": {"min": 1.5, "max": 3}}),
        "other generator": _official_entry(name="6_F", generate_testcase="def gen(): pass"),
        "again": _official_entry(),
    }
    file = tmp_path / "pool.json"
    file.write_text(json.dumps(pool), encoding="utf-8")
    result = OfficialSource().read(file)
    assert [p.id for p in result.problems] == ["1_A. Sum"]
    declared = result.problems[0].declared
    assert declared is not None and declared.levels == (0, 4, 9)
    assert [(p.name, p.min, p.max) for p in declared.scale_params or ()] == [("n", 1, 10)]
    assert dict((r.where, r.reason) for r in result.rejected) == {
        "pool.json#not an object": "record is a list, not an object",
        "pool.json#no generator": "missing field(s): generate_testcase",
        "pool.json#backwards": "'params.n' has min 9 above max 1",
        "pool.json#gap": "'difficulty_dict' keys must be 0..1; '1' is missing",
        "pool.json#float": "'params.n' min and max must be integers, got {'min': 1.5, 'max': 3}",
        "pool.json#other generator": (
            "field 'generate_testcase' does not define generate_testcase(json_obj)"
        ),
        "pool.json#again": "id '1_A. Sum' repeats pool.json#good",
    }
    file.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(PoolError, match="must be a JSON object keyed by environment name"):
        OfficialSource().read(file)
    file.write_text("{", encoding="utf-8")
    with pytest.raises(PoolError, match=r"pool\.json, line 1: is not valid JSON"):
        OfficialSource().read(file)


#: Runs a ``codeio``-contract generator the way a harness would: a seeded Random, then JSON.
_CODEIO_HARNESS = """
import json, random, sys
sys.path.insert(0, sys.argv[2])
from scaler.synth.sources import codeio_stdin
namespace = {"__name__": "scaler_generator"}
exec(compile(sys.stdin.read(), "<generator>", "exec"), namespace)
sys.stdout.write(codeio_stdin(namespace["generate_inputs"](random.Random(int(sys.argv[1])))))
"""
ROOT = str(Path(__file__).resolve().parents[2])


def _run(source: str, stdin: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", source, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _answer(problem: Problem, seed: int) -> tuple[dict[str, Any], Any]:
    """(the generated input, the reference solution's output) for one seed."""
    assert problem.declared is not None and problem.declared.generator is not None
    stdin = _run(_CODEIO_HARNESS, problem.declared.generator.source, str(seed), ROOT)
    assert stdin == codeio_stdin(json.loads(stdin))
    (solution,) = problem.solutions
    return json.loads(stdin), json.loads(_run(solution.source, stdin))


CODEIO_TASK = {
    "task_description": "Given a list of integers, what is the sum of its squares?",
    "input_output_spec": (
        "Input:\n  `numbers` (list of int): the integers.\n\n"
        "Output:\n  `return` (dict): `total` (int), the sum of squares."
    ),
    "code_sample": (
        "import numpy as np\n\ndef main_solution(numbers):\n"
        "    print('debug output that must not reach stdout')\n"
        "    return {'total': np.int64(sum(x * x for x in numbers))}\n"
    ),
    # Uses np from the code sample, as reasoning-gym's generators may.
    "input_generator": (
        "def generate_input(rng: Random) -> dict:\n"
        "    values = np.array([rng.randint(-9, 9) for _ in range(5)])\n"
        "    return {'numbers': [int(v) for v in values]}\n"
    ),
}


def test_codeio_file_tasks_run_through_the_wrapped_solution(tmp_path: Path) -> None:
    pytest.importorskip("numpy", reason="the CodeI/O sample task imports numpy")
    broken = {**CODEIO_TASK, "code_sample": "def solve(): pass"}
    nameless = {k: v for k, v in CODEIO_TASK.items() if k != "task_description"}
    file = tmp_path / "tasks.jsonl"
    file.write_text(
        "\n".join(json.dumps(r) for r in (CODEIO_TASK, broken, nameless, CODEIO_TASK)) + "\n"
    )
    result = CodeIOSource().read(file)
    (problem,) = result.problems
    assert problem.id.startswith("codeio-") and problem.origin == "tasks.jsonl#1"
    assert problem.name == CODEIO_TASK["task_description"]
    assert "\nInput\n" in problem.statement and "\nOutput\n" in problem.statement
    declared = problem.declared
    assert declared is not None and declared.generator_contract == CODEIO_CONTRACT
    assert declared.scale_params is None and declared.levels is None
    assert declared.narrative == CODEIO_TASK["task_description"]
    assert declared.output_spec is not None and "sum of squares" in declared.output_spec
    assert [(r.where, r.reason) for r in result.rejected] == [
        ("tasks.jsonl, line 2", "field 'code_sample' does not define main_solution()"),
        ("tasks.jsonl, line 3", "missing field 'task_description'"),
        ("tasks.jsonl, line 4", f"id {problem.id!r} repeats tasks.jsonl, line 1"),
    ]
    inputs, output = _answer(problem, 3)
    assert output == {"total": sum(x * x for x in inputs["numbers"])}
    assert _answer(problem, 3) == (inputs, output)  # the seed decides the input

    array = tmp_path / "tasks.json.gz"
    array.write_bytes(gzip.compress(json.dumps([{**CODEIO_TASK, "name": "squares"}]).encode()))
    (named,) = CodeIOSource().read(array).problems
    assert (named.id, named.name, named.origin) == ("squares", "squares", "tasks.json.gz#0")


def test_codeio_packaged_tasks() -> None:
    if importlib.util.find_spec("reasoning_gym") is None:
        pytest.skip("reasoning-gym is not installed: pip install 'scaler[codeio]'")
    pytest.importorskip("numpy", reason="CodeI/O reference functions import numpy")
    result = CodeIOSource().read("reasoning-gym")
    assert result.rejected == ()
    assert len(result.problems) > 1000
    assert len({p.id for p in result.problems}) == len(result.problems)
    assert result.problems[0].origin.startswith("reasoning-gym-")
    assert result.problems[0].origin.endswith("/codeio.jsonl.gz#1")
    assert all(p.source == "codeio" and len(p.solutions) == 1 for p in result.problems)
    # A few tasks cannot take their input as JSON (a tuple arrives as a list); the checks reject
    # those later, so a handful of the first tasks must run, not every one.
    ran = 0
    for problem in result.problems[:8]:
        try:
            _answer(problem, 11)
        except AssertionError:
            continue
        ran += 1
    assert ran >= 6


def test_codeio_without_reasoning_gym_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "reasoning_gym" else real(name, *a),
    )
    with pytest.raises(ScalerError, match=r"pip install 'scaler\[codeio\]'"):
        CodeIOSource().read("reasoning-gym")


def test_default_plugin_registers_the_three_sources() -> None:
    found: dict[str, Any] = {}
    scaler_register_sources(register=found.__setitem__)
    assert sorted(found) == ["codecontests", "codeio", "scaler-official"]
    for name, source in found.items():
        assert isinstance(source, ProblemSource) and source.name == name and source.description

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scaler.instances import InstanceFactory, Request
from scaler.model import ENVIRONMENTS
from scaler.pool import write_pool
from scaler.train.reward import compute_score

pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed: pip install pyarrow")


@pytest.fixture
def pool(tmp_path: Path, plugins: Any) -> Path:
    path = tmp_path / "pool.jsonl"
    write_pool([plugins.get(ENVIRONMENTS, e) for e in ("lis-length", "sort-distinct")], path)
    return path


def test_export_writes_verl_rows(run: Any, pool: Path, tmp_path: Path, sandbox: Any,
                                 plugins: Any) -> None:  # fmt: skip
    out = tmp_path / "train.parquet"
    code, stdout, err = run(
        "export", str(pool), "-o", str(out), "--levels", "0,2,999", "-n", "2", "--seed", "5",
        "--backend", "process", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(stdout) == {"output": str(out), "rows": 8, "envs": 2}
    rows = pq.read_table(out).to_pylist()
    assert {(r["extra_info"]["env_id"], r["extra_info"]["level"], r["extra_info"]["seed"])
            for r in rows} == {
        (env, level, seed) for env in ("lis-length", "sort-distinct") for level in (0, 2)
        for seed in (5, 6)
    }  # fmt: skip
    first = rows[0]
    assert first["data_source"] == "scaler/" + first["extra_info"]["env_id"]
    assert first["ability"] == "reasoning" and first["reward_model"]["style"] == "rule"
    assert [m["role"] for m in first["prompt"]] == ["system", "user"]
    env = plugins.get(ENVIRONMENTS, first["extra_info"]["env_id"])
    level, seed = first["extra_info"]["level"], first["extra_info"]["seed"]
    (instance,) = InstanceFactory(sandbox, plugins).make([Request(env, level, seed)])
    assert first["reward_model"]["ground_truth"] == instance.answer
    assert first["prompt"][1]["content"] == instance.messages[1]["content"]


def test_reward_function_in_verls_signature(sandbox: Any, plugins: Any) -> None:
    env = plugins.get(ENVIRONMENTS, "sort-distinct")
    (instance,) = InstanceFactory(sandbox, plugins).make([Request(env, 3, 0)])
    source, truth, info = "scaler/sort-distinct", instance.answer, instance.extra_info
    right = compute_score(source, f"so \\boxed{{{truth}}}", truth, info)
    wrong = compute_score(source, "\\boxed{[-12345]}", truth, info)
    missing = compute_score(source, "no box", truth, info)
    assert right == {"score": 1.0, "acc": 1.0, "pred": truth}
    assert (wrong["score"], wrong["acc"]) == (-1.0, 0.0)
    assert (missing["score"], missing["pred"]) == (-1.0, "")
    assert set(right) == set(wrong) == set(missing)
    with pytest.raises(ValueError, match="no output_type"):
        compute_score(source, "\\boxed{1}", truth, {"env_id": "x"})


def test_export_refuses_bad_levels(run: Any, pool: Path, tmp_path: Path) -> None:
    code, _, err = run("export", str(pool), "-o", str(tmp_path / "x.parquet"), "--levels", "a")
    assert code == 2 and "expected integers" in err

"""``evaluate_envs_into`` and ``evaluate_benchmarks_into`` called from Python: the values they
return and the directory they write."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from scaler.evaluate.benchmarks import Benchmark
from scaler.evaluate.directory import evaluate_benchmarks_into, evaluate_envs_into
from scaler.evaluate.envs import render_markdown
from scaler.instances import InstanceFactory
from scaler.model import ENVIRONMENTS
from scaler.plugins import Plugins
from tests.evaluate.test_envs import ENVS, LEVELS, GradingServer, N, policy, server, teach

__all__ = ["server"]
pytestmark = pytest.mark.usefixtures("no_openai_environment")


def test_evaluate_envs_into_returns_the_evaluation_it_writes_and_resumes(
    server: GradingServer, sandbox: Any, plugins: Plugins, tmp_path: Path
) -> None:
    envs = [plugins.get(ENVIRONMENTS, name) for name in ENVS]
    teach(server, InstanceFactory(sandbox, plugins), envs)
    out = tmp_path / "eval"
    scored: list[dict[str, Any]] = []

    evaluation = evaluate_envs_into(
        out,
        policy(server),
        plugins,
        sandbox,
        envs=envs,
        levels=LEVELS,
        n=N,
        on_result=scored.append,
    )

    by_env = {env.env_id: env for env in evaluation.envs}
    assert [r.acc for r in by_env["lis-length"].levels] == [1.0, 0.5, 0.0]
    assert (by_env["lis-length"].frontier, by_env["max-subarray-sum"].frontier) == (1, 0)
    assert (evaluation.asked, evaluation.resumed, len(scored)) == (24, 0, 24)
    assert json.loads((out / "evaluation.json").read_text()) == evaluation.to_dict()
    assert [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()] == scored
    assert render_markdown(evaluation) in (out / "report.md").read_text()
    assert (out / "accuracy.png").read_bytes().startswith(b"\x89PNG")

    # A sandbox by name, made and closed by the call; everything comes from results.jsonl.
    again = evaluate_envs_into(
        out, policy(server), plugins, "process", envs=envs, levels=LEVELS, n=N
    )
    assert (again.asked, again.resumed, server.requests) == (0, 24, 24)
    assert again.envs == evaluation.envs


class FirstAnswer:
    """A policy in Python, no server: answers every question with the first one's answer."""

    name = "first-answer"

    @property
    def settings(self) -> dict[str, Any]:
        return {"temperature": 0.0}

    def generate(self, messages_list: Sequence[Any], n: int) -> list[list[str]]:
        return [["so \\boxed{3/4}"] * n for _ in messages_list]


def test_evaluate_benchmarks_into_returns_avg_at_k_per_file(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    questions = {"What is 1/2 + 1/4?": "0.75", "Name the largest planet.": "Jupiter"}
    rows = [
        {
            "data_source": "toy",
            "prompt": [{"role": "user", "content": question}],
            "ability": "math",
            "reward_model": {"style": "rule", "ground_truth": truth},
            "extra_info": {"index": index},
        }
        for index, (question, truth) in enumerate(questions.items())
    ]
    path = tmp_path / "toy.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    started: list[str] = []
    done: list[int] = []

    def on_benchmark(benchmark: Benchmark) -> Callable[[int], None]:
        started.append(benchmark.name)
        return done.append

    evaluation = evaluate_benchmarks_into(
        tmp_path / "bench", FirstAnswer(), [path], 3, on_benchmark
    )

    (result,) = evaluation.benchmarks
    assert (result.questions, result.k, result.avg_at_k, result.pass_at_k) == (2, 3, 0.5, 0.5)
    assert (evaluation.policy, evaluation.settings) == ("first-answer", {"temperature": 0.0})
    assert started == [result.name] and sum(done) == 2
    assert json.loads((tmp_path / "bench" / "bench.json").read_text()) == evaluation.to_dict()

"""An evaluation written into a directory, as ``scaler eval`` writes it; the same call resumes.

Per environment and level (``evaluate_envs_into``): ``results.jsonl`` (every scored instance,
appended as batches finish), ``evaluation.json``, ``report.md`` and ``accuracy.png``. On
benchmark files (``evaluate_benchmarks_into``): ``results.jsonl`` and ``bench.json``. A killed
evaluation called again asks only what ``results.jsonl`` lacks; a results file of another policy
or other settings is refused rather than mixed in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from scaler.catalog import available_envs
from scaler.evaluate.avg_at_k import BenchResult, evaluate_benchmark
from scaler.evaluate.benchmarks import Benchmark, load_benchmark
from scaler.evaluate.envs import DEFAULT_BATCH, EnvEvaluation, evaluate_envs, render_markdown
from scaler.instances import InstanceFactory
from scaler.sandbox.use import use_sandbox

if TYPE_CHECKING:
    from scaler.evaluate.policies import Policy
    from scaler.model import EnvSpec
    from scaler.registry import PluginSet
    from scaler.sandbox.jobs import Sandbox

RESULTS = "results.jsonl"


def evaluate_envs_into(
    out: str | os.PathLike[str],
    policy: Policy,
    plugins: PluginSet,
    sandbox: Sandbox | str = "auto",
    *,
    envs: Sequence[EnvSpec] | None = None,
    levels: Sequence[int] | None = None,
    n: int = 8,
    seed: int = 0,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    batch: int = DEFAULT_BATCH,
) -> EnvEvaluation:
    """``n`` instances of every env in ``envs`` (default: every installed one) at every level
    in ``levels`` (default: all of each env's), asked once each, into the directory ``out``,
    ``batch`` prompts (whole groups) per call of the policy.

    ``sandbox`` makes the instances: a backend's name, made here and closed after, or an open
    sandbox, which stays open. ``on_result`` hears each newly scored results line (progress).
    """
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    chosen = available_envs(plugins) if envs is None else envs
    with use_sandbox(plugins, sandbox) as opened:
        evaluation = evaluate_envs(
            policy,
            chosen,
            InstanceFactory(opened, plugins),
            plugins,
            levels=levels,
            n=n,
            seed=seed,
            results_path=directory / RESULTS,
            on_result=on_result,
            batch=batch,
        )
    from scaler.evaluate.plots import accuracy_plot

    plot = accuracy_plot(evaluation, directory / "accuracy.png")
    (directory / "report.md").write_text(
        render_markdown(evaluation) + f"\n![accuracy by level]({plot.name})\n", encoding="utf-8"
    )
    _write_json(directory / "evaluation.json", evaluation.to_dict())
    return evaluation


@attrs.frozen
class BenchEvaluation:
    """avg@k of one policy on each benchmark file, with the settings it sampled with."""

    policy: str
    settings: Mapping[str, Any]
    benchmarks: tuple[BenchResult, ...]

    def to_dict(self) -> dict[str, Any]:
        """What ``bench.json`` holds (and ``scaler eval --bench --json`` prints)."""
        return {
            "policy": self.policy,
            "settings": dict(self.settings),
            "benchmarks": [r.to_dict() for r in self.benchmarks],
        }


def evaluate_benchmarks_into(
    out: str | os.PathLike[str],
    policy: Policy,
    files: Sequence[str | os.PathLike[str]],
    k: int = 16,
    on_benchmark: Callable[[Benchmark], Callable[[int], None] | None] | None = None,
) -> BenchEvaluation:
    """avg@k on each benchmark file (verl's parquet schema), into the directory ``out``.

    Every file is read before the first question is asked, so a bad one costs no policy time.
    ``on_benchmark`` is told of each benchmark as it starts and may return a callback for the
    questions done in each batch (progress).
    """
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    benchmarks = [load_benchmark(Path(path)) for path in files]
    results = []
    for benchmark in benchmarks:
        on_batch = None if on_benchmark is None else on_benchmark(benchmark)
        results.append(evaluate_benchmark(policy, benchmark, k, directory / RESULTS, on_batch))
    evaluation = BenchEvaluation(policy.name, policy.settings, tuple(results))
    _write_json(directory / "bench.json", evaluation.to_dict())
    return evaluation


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

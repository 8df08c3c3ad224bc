"""avg@k of a policy on benchmark files (MATH-500, AIME24, AMC23, MMLU-Pro, BBEH, GPQA).

Each distinct question is asked ``k`` times (the files' x16 repeats are folded first, so k
is the evaluator's choice); avg@k is the mean over questions of the share of their k samples
that are equivalent to the reference answer (``answers.equivalent``). Results go to a JSONL
file as they come, one line per scored sample with the policy and its decoding settings, and
a killed run resumes: samples already in the file are not asked again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from scaler.errors import ScalerError
from scaler.evaluate.answers import equivalent
from scaler.evaluate.benchmarks import Benchmark, Item
from scaler.evaluate.envs import append_lines, normalized_settings, result_lines
from scaler.evaluate.policies import Policy

#: Questions asked per policy call: enough to keep a server busy, little lost to a kill.
BATCH = 32


@attrs.frozen
class BenchResult:
    name: str
    questions: int
    k: int
    avg_at_k: float
    #: Questions with at least one right sample (pass@k, for reference).
    pass_at_k: float

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _done(path: Path, policy: Policy) -> dict[tuple[str, int, int], float]:
    """(benchmark, question, sample) -> score of the lines already in the file."""
    done: dict[tuple[str, int, int], float] = {}
    settings = normalized_settings(policy.settings)
    for _, data in result_lines(path):
        if data["policy"] != policy.name or normalized_settings(data["settings"]) != settings:
            raise ScalerError(
                f"{path} holds results of policy {data['policy']!r} with other settings; "
                "use another --out directory for this policy"
            )
        done[(data["benchmark"], int(data["question"]), int(data["sample"]))] = float(data["acc"])
    return done


def evaluate_benchmark(
    policy: Policy,
    benchmark: Benchmark,
    k: int,
    results_path: Path,
    on_batch: Callable[[int], None] | None = None,
) -> BenchResult:
    if k < 1:
        raise ScalerError(f"--k must be >= 1, got {k}")
    items = benchmark.items
    scores = _done(results_path, policy)
    for start in range(0, len(items), BATCH):
        batch: Sequence[Item] = items[start : start + BATCH]
        todo = [
            (item, sample)
            for item in batch
            for sample in range(k)
            if (benchmark.name, item.index, sample) not in scores
        ]
        if todo:
            wanted: dict[int, int] = {}
            for item, _ in todo:
                wanted[item.index] = wanted.get(item.index, 0) + 1
            asked = [item for item in batch if item.index in wanted]
            answers = policy.generate([list(item.prompt) for item in asked], max(wanted.values()))
            records = []
            for item, samples in zip(asked, answers, strict=True):
                missing = [s for s in range(k) if (benchmark.name, item.index, s) not in scores]
                for sample, response in zip(missing, samples, strict=False):
                    acc = 1.0 if equivalent(response, item.ground_truth, item.kind) else 0.0
                    scores[(benchmark.name, item.index, sample)] = acc
                    records.append(
                        {
                            "benchmark": benchmark.name,
                            "question": item.index,
                            "sample": sample,
                            "acc": acc,
                            "kind": item.kind,
                            "response_chars": len(response),
                            "response": response,
                            "policy": policy.name,
                            "settings": policy.settings,
                        }
                    )
            append_lines(results_path, records)
        if on_batch is not None:
            on_batch(len(batch))
    per_question = [[scores[(benchmark.name, item.index, s)] for s in range(k)] for item in items]
    return BenchResult(
        benchmark.name,
        len(items),
        k,
        sum(sum(q) / k for q in per_question) / len(items) if items else 0.0,
        sum(1 for q in per_question if any(q)) / len(items) if items else 0.0,
    )

"""The policy benchmark asks one prompt per call, then all in one, on the same prompts (no
timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from scaler.evaluate.policies import Messages
from scaler.perf.policy import bench_prompts, run_policy_benchmark
from scaler.plugins import Plugins
from tests import tiny_model

ROOT = Path(__file__).resolve().parents[2]


class Echo:
    """Answers each chat with its last message's length: a policy whose answers are known."""

    name = "echo"

    def __init__(self) -> None:
        self.settings: dict[str, Any] = {}
        self.calls: list[int] = []

    def generate(self, messages_list: Sequence[Messages], n: int) -> list[list[str]]:
        self.calls.append(len(messages_list))
        return [[str(len(messages[-1]["content"]))] * n for messages in messages_list]


def test_one_prompt_per_call_then_all_in_one_on_the_same_prompts() -> None:
    prompts = bench_prompts(Plugins.load(environ={}), 5)
    assert len(prompts) == 5 and len({json.dumps(p) for p in prompts}) == 5
    policy = Echo()
    report = run_policy_benchmark(policy, prompts)
    assert policy.calls == [1, 1, 1, 1, 1, 1, 5]  # a warm-up call, five alone, one for all
    assert report["prompts"] == 5 and report["same_answers"] is True
    assert report["one_at_a_time"]["answer_chars"] == report["batched"]["answer_chars"] > 0
    assert report["speedup"] == (
        report["batched"]["prompts_per_s"] / report["one_at_a_time"]["prompts_per_s"]
    )


@pytest.mark.torch
def test_the_script_measures_a_real_hf_model(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="torch is not installed (the verl tox env has it)")
    pytest.importorskip("transformers", reason="transformers is not installed")
    model = tiny_model.build(tmp_path / "model")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "policy.py"), f"hf:{model}", "-n", "6",
         "--policy-option", "max_tokens=5", "--policy-option", "batch_size=4"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["prompts"] == 6 and report["same_answers"] is True
    for side in ("one_at_a_time", "batched"):
        assert 0 < report[side]["new_tokens"] <= 6 * 5 and report[side]["prompts_per_s"] > 0
    assert report["settings"]["max_tokens"] == 5

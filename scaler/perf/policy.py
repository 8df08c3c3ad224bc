"""The policy benchmark: prompts a second and new tokens a second, one prompt per call against
all of them in one call, measured on the same prompts in the same process.

A policy that batches (``hf`` generates up to ``batch_size`` rows together; a server takes
concurrent requests) is only as fast as the calls it is given: evaluation asks 64 prompts per
call, a training run a whole step's. The prompts are instances of the builtin environments,
made in this process (their programs are scaler's own, so no sandbox is needed). Sampling is
seeded per prompt, so both sides must give the same answers, which the report says.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from scaler.evaluate.policies import Messages, Policy
from scaler.instances import InstanceFactory
from scaler.model import ENVIRONMENTS
from scaler.perf.instances import InProcess, mixed_requests
from scaler.registry import PluginSet


def bench_prompts(plugins: PluginSet, count: int, seed: int = 0) -> list[Messages]:
    """``count`` prompts, round-robin over the builtin environments at random levels."""
    envs = [entry.obj for entry in plugins.registry(ENVIRONMENTS).values()]
    if not envs:
        raise RuntimeError("no environments are installed to make prompts from")
    with InProcess() as sandbox:
        instances = InstanceFactory(sandbox, plugins).make(mixed_requests(envs, count, seed))
    return [instance.messages for instance in instances]


def _side(
    policy: Policy, call: Callable[[], list[str]], count: int
) -> tuple[dict[str, Any], list[str]]:
    start = time.perf_counter()
    answers = call()
    seconds = time.perf_counter() - start
    figures: dict[str, Any] = {"seconds": seconds, "prompts_per_s": count / seconds}
    tokenizer = getattr(policy, "tokenizer", None)
    if tokenizer is not None:
        tokens = sum(len(tokenizer.encode(a, add_special_tokens=False)) for a in answers)
        figures.update(new_tokens=tokens, new_tokens_per_s=tokens / seconds)
    else:
        figures.update(answer_chars=sum(map(len, answers)))
    return figures, answers


def run_policy_benchmark(policy: Policy, prompts: Sequence[Messages]) -> dict[str, Any]:
    """One sample per prompt: first one prompt per call, then all in one call (after one call
    outside the figures, which loads what a first call loads)."""
    policy.generate([prompts[0]], 1)
    count = len(prompts)
    one, alone = _side(policy, lambda: [policy.generate([p], 1)[0][0] for p in prompts], count)
    together, batched = _side(
        policy, lambda: [samples[0] for samples in policy.generate(list(prompts), 1)], count
    )
    return {
        "policy": policy.name,
        "settings": policy.settings,
        "prompts": len(prompts),
        "one_at_a_time": one,
        "batched": together,
        "speedup": together["prompts_per_s"] / one["prompts_per_s"],
        "same_answers": alone == batched,
    }

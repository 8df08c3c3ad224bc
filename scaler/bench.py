"""The instance-throughput benchmark, with its baseline measured in the same process.

Ours: instances materialized through a sandbox backend in batches (warm workers, forked Python
jobs, cached C++ builds), each then verified. Baseline ("naive-subprocess", the pattern of the
paper's code): a fresh interpreter (or a fresh run of the binary) per generator and per solution
call. The baseline gets the same parallelism as the backend, so the ratio measures the per-call
cost, not the number of cores.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from scaler.instances import InstanceFactory, Request, derive_seed, generator_harness
from scaler.model import EnvSpec, Program
from scaler.plugins import Plugins
from scaler.verify import canonical_answer, verify

#: Instances per sandbox round, about one training step's worth of prompts for one worker pool.
BATCH_SIZE = 32


def mixed_requests(envs: Sequence[EnvSpec], count: int, seed: int = 0) -> list[Request]:
    """Round-robin over envs, each at a level drawn uniformly from its table."""
    rng = random.Random(seed)
    ordered = sorted(envs, key=lambda e: e.id)
    return [
        Request(env, rng.randint(0, env.max_level), i)
        for i, env in ((i, ordered[i % len(ordered)]) for i in range(count))
    ]


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_backend(factory: InstanceFactory, requests: Sequence[Request]) -> dict[str, float]:
    latencies: list[float] = []
    start = time.perf_counter()
    for first in range(0, len(requests), BATCH_SIZE):
        batch = requests[first : first + BATCH_SIZE]
        t0 = time.perf_counter()
        for instance in factory.make(batch):
            if not verify(f"\\boxed{{{instance.answer}}}", instance, factory.plugins).correct:
                raise RuntimeError(f"{instance.env_id}: its own answer did not verify")
        latencies.extend([time.perf_counter() - t0] * len(batch))
    elapsed = time.perf_counter() - start
    return {
        "instances_per_s": len(requests) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * _percentile(latencies, 0.99),
    }


class _SpawnPerCall:
    """Runs each program as a new process, as a per-call sandbox (or the paper's code) does."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.binaries: dict[str, Path] = {}

    def command(self, program: Program) -> list[str]:
        path = self.workdir / f"{program.hash}.{'py' if program.language == 'python' else 'cpp'}"
        if not path.exists():
            path.write_text(program.source, encoding="utf-8")
        if program.language == "python":
            return [sys.executable, str(path)]
        binary = self.binaries.get(program.hash)
        if binary is None:
            binary = path.with_suffix("")
            subprocess.run(
                ["g++", "-O2", "-std=c++17", "-o", str(binary), str(path)],
                check=True,
                capture_output=True,
            )
            self.binaries[program.hash] = binary
        return [str(binary)]

    def run(self, program: Program, stdin: str, timeout: float) -> str:
        done = subprocess.run(
            self.command(program),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        return done.stdout

    def instance(self, request: Request) -> bool:
        env = request.env
        payload = json.dumps(
            {
                "params": env.params_at(request.level),
                "seed": derive_seed(env.id, request.level, request.seed),
            }
        )
        data = json.loads(self.run(generator_harness(env), payload, 20.0))
        stdout = self.run(env.solutions[0], data["stdin"], env.limits.wall_s)
        answer = canonical_answer(env.output_type, stdout)
        extra = {"output_type": env.output_type, "answer": answer}
        return verify(f"\\boxed{{{answer}}}", extra).correct


def measure_baseline(requests: Sequence[Request], parallel: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="scaler-bench-") as tmp:
        runner = _SpawnPerCall(Path(tmp))
        for request in requests:  # compile outside the timed part, as our cache does
            for program in request.env.solutions[:1]:
                runner.command(program)
        start = time.perf_counter()
        with ThreadPoolExecutor(parallel) as pool:
            ok = list(pool.map(runner.instance, requests))
        elapsed = time.perf_counter() - start
    if not all(ok):
        raise RuntimeError("the baseline produced an answer that did not verify")
    return {"instances_per_s": len(requests) / elapsed}


def run_instance_benchmark(
    plugins: Plugins,
    make_sandbox: Callable[[], Any],
    backend: str,
    count: int = 200,
    baseline_count: int = 40,
) -> dict[str, Any]:
    envs = [entry.obj for entry in plugins.registry("environments").values()]
    if not envs:
        raise RuntimeError("no environments are installed to benchmark")
    requests = mixed_requests(envs, count)
    with make_sandbox() as sandbox:
        factory = InstanceFactory(sandbox, plugins)
        factory.make(requests[: min(len(requests), BATCH_SIZE)])  # warm-up: compile, fork paths
        ours = measure_backend(factory, requests)
        parallel = getattr(sandbox, "workers", None) or os.cpu_count() or 1
    baseline = measure_baseline(mixed_requests(envs, baseline_count, seed=1), parallel)
    return {
        "backend": backend,
        "instances": count,
        "envs": len(envs),
        "workers": parallel,
        **ours,
        "baseline": {"name": "naive-subprocess", "instances": baseline_count, **baseline},
        "ratio": ours["instances_per_s"] / baseline["instances_per_s"],
    }

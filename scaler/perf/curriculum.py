"""The curriculum benchmark: the cost of its bookkeeping, and simulated steps per second.

Two figures, each measured in the same process as what it is compared with:

- ``measure_updates``: what the curriculum adds to a training step on its own, at the paper's
  scale (2,739 environments, a window of 64). No instances are made and no rollouts scored, so
  the figure is the curation and controller work that a trainer waits for between two steps.
- ``measure_steps``: whole simulated steps per second over the builtin environments, with real
  instances made through the sandbox, against the paper's driver pattern (instances made one at
  a time in the trainer loop, no batching, no prefetch). Everything but the way instances are
  made is the same in both runs, and both must end in the same state.
"""

from __future__ import annotations

import math
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from scaler.config import Component, RunConfig
from scaler.curriculum.controllers import CONTROLLERS, Controller
from scaler.curriculum.curation import CURATION
from scaler.curriculum.scheduler import StepReport, split_batch
from scaler.curriculum.state import CurriculumState, rng_state
from scaler.errors import InstanceError
from scaler.instances import InstanceFactory, Request
from scaler.model import Instance
from scaler.run import Run

if TYPE_CHECKING:
    from scaler.registry import PluginSet
    from scaler.sandbox.jobs import Sandbox

#: The top level of every environment in the synthetic pool.
MAX_LEVEL = 20
#: Rollouts per prompt in the synthetic accuracies, as the simulator's default.
ROLLOUTS = 8


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _hidden_skills(pool: Sequence[str], rng: random.Random) -> dict[str, float]:
    """A skill per env chosen so that every retirement rule fires over a long enough run.

    Far below level 0, accuracy stays exactly 0 (zero-accuracy); far above the top level, the
    difficulty climbs to the top and stays (saturated); in between, it settles around the skill
    and its slope goes flat (no-progress).
    """
    skills = {}
    for env_id in pool:
        u = rng.random()
        if u < 0.15:
            skills[env_id] = -10.0
        elif u < 0.30:
            skills[env_id] = MAX_LEVEL + 10.0
        else:
            skills[env_id] = rng.uniform(1.0, MAX_LEVEL - 2.0)
    return skills


def measure_updates(
    plugins: PluginSet,
    pool_size: int = 2739,
    window: int = 64,
    steps: int = 2000,
    controller: str = "scaler",
    curation: str = "scaler-window",
    seed: int = 0,
) -> dict[str, Any]:
    """Milliseconds per step of the curriculum's bookkeeping alone, over a synthetic pool.

    The Scheduler itself needs a sandbox and real environments, which would put instance
    making in the figure; so this drives the same objects (controller and curation built from
    the registries) with the same calls in the same order as ``Scheduler.next_step`` and
    ``Scheduler.report``: ``before_step`` (then a controller for each newly active env),
    ``split_batch`` of ``window`` prompts, ``levels`` per env, then ``update`` per env and
    ``after_step``. Accuracies come from a hidden skill per env (the fraction right of 8
    Bernoulli draws per prompt); drawing them stands for the trainer and is not timed. Not in
    the figure either: instance seeds, the result tally and the state snapshot the Scheduler
    takes after each report.
    """
    pool = [f"env-{i:04d}" for i in range(pool_size)]
    make_controller = plugins.get(CONTROLLERS, controller)
    policy = plugins.get(CURATION, curation)(window=window)
    rng = random.Random(seed)
    outcomes = random.Random(seed + 1)
    skills = _hidden_skills(pool, random.Random(seed + 2))
    controllers: dict[str, Controller] = {}
    policy.start(pool, rng)
    for env_id in policy.active:
        controllers[env_id] = make_controller(max_level=MAX_LEVEL)
    retired: Counter[str] = Counter()
    timings: list[float] = []
    for step in range(1, steps + 1):
        began = time.perf_counter()
        retirements, _ = policy.before_step(step, rng, controllers)
        for env_id in policy.active:
            if env_id not in controllers:
                controllers[env_id] = make_controller(max_level=MAX_LEVEL)
        counts = split_batch(window, policy.active, step)
        levels = {env_id: controllers[env_id].levels(n) for env_id, n in counts.items() if n}
        planned = time.perf_counter() - began
        results = {
            env_id: _draw(outcomes, skills[env_id], env_levels)
            for env_id, env_levels in levels.items()
        }
        began = time.perf_counter()
        accuracy: dict[str, float] = {}
        for env_id, (acc, rollouts) in results.items():
            accuracy[env_id] = acc
            controllers[env_id].update(acc, rollouts, levels[env_id])
        policy.after_step(step, accuracy, controllers)
        timings.append(planned + time.perf_counter() - began)
        retired.update(r.reason for r in retirements)
    return {
        "state_save_ms": _state_save_ms(controllers, policy, rng, pool),
        "pool_size": pool_size,
        "active": len(policy.active),
        "steps": steps,
        "window": window,
        "controller": controller,
        "curation": curation,
        "ms_per_step": 1000 * statistics.fmean(timings),
        "p50_ms": 1000 * statistics.median(timings),
        "p99_ms": 1000 * _percentile(timings, 0.99),
        "retirements": dict(sorted(retired.items())),
    }


def _state_save_ms(
    controllers: dict[str, Controller], policy: Any, rng: random.Random, pool: Sequence[str]
) -> float:
    """What saving the curriculum after a step costs at this pool size: build and serialize."""
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        CurriculumState(
            step=1,
            seed=0,
            rng=rng_state(rng),
            controller={"name": "bench", "options": {}},
            curation={"name": "bench", "options": {}},
            controllers={env_id: c.state() for env_id, c in controllers.items()},
            pool={env_id: "0" * 64 for env_id in pool},
            curation_state=policy.state(),
        ).to_json()
        timings.append(time.perf_counter() - began)
    return 1000 * statistics.median(timings)


def measure_hiding(
    plugins: PluginSet, sandbox: Sandbox, steps: int = 8, generation_s: float = 0.5
) -> dict[str, Any]:
    """How much instance making a trainer still waits for when its steps take time.

    The simulated learner is given ``generation_s`` of rollout time per step (standing for a
    GPU's generation); with prefetch the next step's instances are made during it. Reported:
    the share of the trainer loop spent waiting for instances, with and without prefetch
    (the first step has nothing to hide behind and is left out of both).
    """
    shares = {}
    for prefetch in (True, False):
        config = RunConfig(
            steps=steps,
            prefetch=prefetch,
            trainer=Component("simulate", {"rollouts": 8, "generation_s": generation_s}),
        )
        with tempfile.TemporaryDirectory(prefix="scaler-bench-hiding-") as tmp:
            run = Run.start(config, plugins, sandbox, Path(tmp) / "run")
            try:
                waited, stamps = _record(run, steps)
            finally:
                run.close()
        shares[prefetch] = sum(waited[1:]) / (stamps[-1] - stamps[0])
    return {
        "steps": steps,
        "generation_s": generation_s,
        "wait_share_prefetch": shares[True],
        "wait_share_no_prefetch": shares[False],
    }


def _record(run: Run, steps: int) -> tuple[list[float], list[float]]:
    """Each step's instance wait, and the time its report arrived."""
    waited: list[float] = []
    stamps: list[float] = []

    def on_step(report: StepReport) -> None:
        waited.append(report.instance_wait_s)
        stamps.append(time.perf_counter())

    run.execute(steps, on_step)
    return waited, stamps


def _draw(rng: random.Random, skill: float, levels: Sequence[int]) -> tuple[float, int]:
    """(accuracy, rollouts) of one env's prompts: ROLLOUTS Bernoulli draws per prompt."""
    right = 0
    for level in levels:
        p = _sigmoid(skill - level)
        right += sum(1 for _ in range(ROLLOUTS) if rng.random() < p)
    rollouts = ROLLOUTS * len(levels)
    return right / rollouts, rollouts


class SequentialFactory(InstanceFactory):
    """The paper's driver pattern: every instance on its own, two sandbox round trips each."""

    def make_each(self, requests: Sequence[Request]) -> list[Instance | InstanceError]:
        made: list[Instance | InstanceError] = []
        for request in requests:
            made.extend(super().make_each([request]))
        return made


def _timed_execute(run: Run, steps: int) -> tuple[float, float]:
    """(seconds of the trainer loop, seconds waited for instances) of ``run.execute``.

    The clock stops at the last step's callback: the report and plots ``execute`` writes after
    the loop are the same for any way of making instances and would only dilute the ratio.
    """
    waited: list[float] = []
    last = [0.0]

    def on_step(report: StepReport) -> None:
        waited.append(report.instance_wait_s)
        last[0] = time.perf_counter()

    began = time.perf_counter()
    run.execute(steps, on_step)
    if len(waited) != steps:
        raise RuntimeError(f"the run reported {len(waited)} steps of {steps}")
    return last[0] - began, sum(waited)


def _warm_up(sandbox: Sandbox, plugins: PluginSet, run: Run) -> None:
    """One instance per env first, so neither run pays for starting workers or first imports."""
    factory = InstanceFactory(sandbox, plugins, run.config.prompt.name)
    factory.make_each([Request(env, 0, 0) for env in run.envs])


def measure_steps(
    plugins: PluginSet, sandbox: Sandbox, steps: int = 30, batch_size: int = 8, window: int = 8
) -> dict[str, Any]:
    """Simulated steps per second with real instances, against instances made one at a time.

    Both runs are ``Run``s of the same config over the builtin environments with the simulated
    trainer, through ``sandbox``. Ours is the run as configured (batched instances, next step
    prefetched). The baseline has ``prefetch=False`` and a factory that makes each instance on
    its own. The scheduler's decisions and the simulator's answers do not
    depend on how instances are made, so both runs must end with the same ``state.json``.
    """
    config = RunConfig(
        steps=steps,
        batch_size=batch_size,
        curation=Component("scaler-window", {"window": window}),
    )
    baseline_config = attrs.evolve(config, prefetch=False)
    with tempfile.TemporaryDirectory(prefix="scaler-bench-curriculum-") as tmp:
        ours_dir, baseline_dir = Path(tmp) / "ours", Path(tmp) / "baseline"
        run = Run.start(config, plugins, sandbox, ours_dir)
        try:
            _warm_up(sandbox, plugins, run)
            wall, waited = _timed_execute(run, steps)
            pool_size = len(run.envs)
            hits, wasted = run.scheduler.buffer.hits, run.scheduler.buffer.wasted
        finally:
            run.close()
        one_by_one = SequentialFactory(sandbox, plugins, baseline_config.prompt.name)
        baseline = Run.start(baseline_config, plugins, sandbox, baseline_dir, one_by_one)
        try:
            baseline_wall, _ = _timed_execute(baseline, steps)
        finally:
            baseline.close()
        same_state = _state(ours_dir) == _state(baseline_dir)
    ours_rate, baseline_rate = steps / wall, steps / baseline_wall
    return {
        "steps": steps,
        "batch_size": batch_size,
        "window": window,
        "pool_size": pool_size,
        "steps_per_s": ours_rate,
        "instance_wait_share": waited / wall,
        "prefetch": {"hits": hits, "wasted": wasted},
        "baseline": {"name": "sequential-per-instance", "steps_per_s": baseline_rate},
        "ratio": ours_rate / baseline_rate,
        "same_state": same_state,
    }


def _state(directory: Path) -> str:
    return (directory / "state.json").read_text(encoding="utf-8")


def run_curriculum_benchmark(
    plugins: PluginSet,
    sandbox: Sandbox,
    pool_size: int = 2739,
    window: int = 64,
    update_steps: int = 2000,
    steps: int = 30,
    batch_size: int = 8,
    step_window: int = 8,
    controller: str = "scaler",
    curation: str = "scaler-window",
    seed: int = 0,
    hiding_steps: int = 8,
    generation_s: float = 0.5,
) -> dict[str, Any]:
    """All measurements; the top level carries the figures the targets are stated in."""
    updates = measure_updates(plugins, pool_size, window, update_steps, controller, curation, seed)
    simulated = measure_steps(plugins, sandbox, steps, batch_size, step_window)
    hiding = measure_hiding(plugins, sandbox, hiding_steps, generation_s)
    return {
        "pool_size": updates["pool_size"],
        "active": updates["active"],
        "ms_per_step": updates["ms_per_step"],
        "steps_per_s": simulated["steps_per_s"],
        "updates": updates,
        "steps": simulated,
        "hiding": hiding,
    }

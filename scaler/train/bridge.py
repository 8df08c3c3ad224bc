"""The curriculum as a named Ray actor, which verl's dataset and reward workers talk to.

The actor owns the Scheduler (and so the sandbox, the controllers and curation) for the whole
run. verl's dataset asks it for the next row; the reward function tells it each score,
fire-and-forget, so the reward loop never waits on the curriculum. The actor is threaded: a
pull that waits for the last reports of a step does not block the reports themselves.

Nothing here imports verl; Ray is imported when an actor is started or looked up.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scaler.errors import ScalerError

if TYPE_CHECKING:
    from scaler.registry import PluginSpec

ACTOR_NAME = "scaler-curriculum"
NAMESPACE = "scaler"
#: Calls the actor serves at once: one pulling dataset, many reporting reward workers.
CONCURRENCY = 64


class CurriculumActor:
    """What runs inside the Ray actor: a CurriculumService built from a run config."""

    def __init__(
        self,
        config: Mapping[str, Any],
        rollouts_per_prompt: int,
        state_file: str | None = None,
        grace_s: float = 30.0,
        state_dir: str | None = None,
        keep_every: int = 1,
    ) -> None:
        from scaler import logs
        from scaler.catalog import resolve_envs
        from scaler.config import RunConfig
        from scaler.curriculum.scheduler import Scheduler
        from scaler.curriculum.state import CurriculumState
        from scaler.instances import InstanceFactory
        from scaler.plugins import process_plugins
        from scaler.sandbox.selection import build_sandbox
        from scaler.train.service import CurriculumService

        # Info: the per-step curriculum lines are what a verl run shows of the curriculum.
        logs.configure(1, "console")
        run = RunConfig.from_dict(config)
        # A Ray worker, so no caller to hand it the plugin set: start_actor put the driver's
        # spec in this worker's environment, which process_plugins loads.
        loaded = process_plugins()
        sandbox = build_sandbox(loaded, run.sandbox.name, run.sandbox.options)
        state = CurriculumState.load(state_file) if state_file else None
        scheduler = Scheduler(
            resolve_envs(run, loaded),
            run.curriculum(),
            InstanceFactory(sandbox, loaded, run.prompt.name),
            loaded,
            state,
        )
        self.service = CurriculumService(
            scheduler, rollouts_per_prompt, grace_s, state_dir, keep_every
        )
        self.reward_failures: list[str] = []

    def next_row(self) -> dict[str, Any]:
        return self.service.next_row()

    def reward_failed(self, message: str) -> None:
        """A reward worker could not score a rollout; the driver reports it when verl stops."""
        if message not in self.reward_failures:
            self.reward_failures.append(message)

    def failures(self) -> list[str]:
        return list(self.reward_failures)

    def report(self, extra_info: Mapping[str, Any], acc: float) -> None:
        self.service.report(extra_info, acc)

    def save(self, directory: str) -> str:
        return str(self.service.save(directory))

    def step(self) -> int:
        return self.service.scheduler.step

    def scalars(self, step: int) -> dict[str, float]:
        """The figures of closed step ``step`` for a tracker (``scaler.train.tracking``); none
        while it is open."""
        from scaler.curriculum.metrics import scalars

        for report in reversed(self.service.reports):
            if report.step == step:
                return scalars(report)
        return {}

    def step_reports(self) -> list[dict[str, Any]]:
        return [report.to_dict() for report in self.service.reports]

    def finish(self, title: str = "") -> list[str]:
        return [str(path) for path in self.service.finish(title)]


def start_actor(
    config: Mapping[str, Any],
    rollouts_per_prompt: int,
    plugins: PluginSpec,
    state_file: str | Path | None = None,
    grace_s: float = 30.0,
    state_dir: str | Path | None = None,
    keep_every: int = 1,
) -> Any:
    """Start the named actor in the current Ray cluster (``ray.init`` first) and return it.

    ``plugins``: the plugin set the actor loads (the driver's spec); ``state_dir``: where
    the state of every closed step is kept for the trainer's checkpoints (``keep_every``: the
    trainer's checkpoint frequency); ``state_file``: a state to resume.
    """
    import ray

    remote = ray.remote(max_concurrency=CONCURRENCY)(CurriculumActor)
    return remote.options(
        name=ACTOR_NAME,
        namespace=NAMESPACE,
        runtime_env={"env_vars": plugins.to_environ()},
    ).remote(
        dict(config),
        rollouts_per_prompt,
        None if state_file is None else str(state_file),
        grace_s,
        None if state_dir is None else str(state_dir),
        keep_every,
    )


def find_actor() -> Any:
    """The running curriculum actor; a clear error when the run did not start one."""
    import ray

    try:
        return ray.get_actor(ACTOR_NAME, namespace=NAMESPACE)
    except ValueError as exc:
        raise ScalerError(
            f"no curriculum actor {ACTOR_NAME!r} in Ray namespace {NAMESPACE!r}: start "
            "training with `scaler train`, which starts it before verl"
        ) from exc

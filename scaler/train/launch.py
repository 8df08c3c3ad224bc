"""``scaler train``: a run config with ``trainer = "verl"`` turned into a verl GRPO run.

The run config stays the single source of the numbers the curriculum and verl must agree on:
prompts per step (``run.batch_size``), rollouts per prompt (``[trainer] rollouts``) and steps
(``run.steps``); ``scaler.train.config`` reads the rest of the ``[trainer]`` table. ``plan``
puts the paper's preset first, then those options, then the user's ``--override`` values, so a
user can change anything verl knows without scaler standing in the way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from scaler.config import Component, RunConfig
from scaler.errors import ScalerError
from scaler.logs import get_logger
from scaler.registry import PluginSet, PluginSpec
from scaler.train.config import FROM_RUN_CONFIG, TRAINER_NAME, TrainConfig, parse_options
from scaler.train.preset import compose_overrides

log = get_logger(__name__)

#: verl imports the modules this variable lists in every process that imports verl.
EXTERNAL_MODULES = "VERL_USE_EXTERNAL_MODULES"
#: Adds the curriculum's figures to verl's tracker (``scaler.train.tracking``; named, not
#: imported: importing it needs verl).
TRACKING_MODULE = "scaler.train.tracking"


def plan(config: TrainConfig, overrides: Sequence[str] = ()) -> list[str]:
    """verl overrides: the paper's preset, then the config's options, then ``overrides``.

    Hydra applies overrides in order, so the user's come last and win.
    """
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if "=" not in override:
            raise ScalerError(f"--override {override!r}: expected KEY=VALUE (Hydra syntax)")
        if key in FROM_RUN_CONFIG:
            raise ScalerError(
                f"--override {override!r}: the curriculum must agree with verl on {key}; set "
                f"{FROM_RUN_CONFIG[key]} in the run config instead"
            )
    return [*compose_overrides(config), *overrides]


def load(config_file: str | Path | None) -> RunConfig:
    """The run config of ``scaler train``: the file, or the embedded default with verl."""
    if config_file is not None:
        return RunConfig.load(config_file)
    return attrs.evolve(RunConfig(), trainer=Component(TRAINER_NAME, {"rollouts": 8}))


def actor_config(config: RunConfig) -> dict[str, Any]:
    """The run config as the curriculum actor gets it: pool paths absolute.

    The actor may run in another working directory (or on another node of the cluster).
    """
    data = config.to_dict()
    data["pool"]["paths"] = [str(Path(p).resolve()) for p in config.pool_paths]
    return data


def train(
    config: TrainConfig,
    overrides: Sequence[str] = (),
    ray_address: str | None = None,
    *,
    plugins: PluginSpec,
    state_file: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Start Ray, the curriculum actor, then verl's PPO loop; the curriculum's step reports.

    verl's ``run_ppo`` calls ``ray.init`` only when Ray is not up, so Ray is initialised here
    (local, or ``ray_address``) with the runtime environment verl would have used, and the
    named curriculum actor is in the cluster before verl's dataset and reward workers look for
    it. The reports are returned because the actor ends with this call (it is not detached).
    Needs GPUs and vLLM, except with ``device = "cpu"`` (``scaler.train.cpu``: tiny models),
    which sets ``preset.CPU_ENVIRONMENT`` in this process's environment for verl to read.
    ``plugins``: the plugin set of every Ray worker (the driver's spec), passed to them
    through Ray's runtime environment.
    """
    from scaler.train.preset import CPU_ENVIRONMENT, validate

    config.require_model()
    environment: dict[str, str] = {}
    if config.device == "cpu":
        environment = dict(CPU_ENVIRONMENT)
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)  # would hide the one "GPU" Ray is told of
    # Every verl process loads these (the curriculum's figures in verl's tracker), after any a
    # user set. Before verl is first imported here: its __init__ reads them.
    environment[EXTERNAL_MODULES] = external_modules(
        os.environ.get(EXTERNAL_MODULES, ""),
        environment.get(EXTERNAL_MODULES, ""),
        TRACKING_MODULE,
    )
    os.environ.update(environment)
    composed = validate(plan(config, overrides))
    ray = _ray()
    from omegaconf import OmegaConf
    from verl.trainer.constants_ppo import get_ppo_ray_runtime_env
    from verl.trainer.main_ppo import TaskRunnerV1, run_ppo
    from verl.utils.device import auto_set_device

    from scaler.train.bridge import start_actor
    from scaler.train.service import resume_state

    if not ray.is_initialized():
        init = OmegaConf.to_container(composed.ray_kwargs.get("ray_init", {}), resolve=True)
        runtime_env = get_ppo_ray_runtime_env(composed)
        env_vars = runtime_env.setdefault("env_vars", {})
        env_vars.update(environment)
        env_vars.update(plugins.to_environ())
        if composed.transfer_queue.enable:
            env_vars["TRANSFER_QUEUE_ENABLE"] = "1"
        merged = OmegaConf.merge(runtime_env, init.pop("runtime_env", None) or {})
        init["runtime_env"] = OmegaConf.to_container(merged, resolve=True)
        if ray_address:
            init["address"] = ray_address
        log.info("starting ray", address=ray_address or "local")
        ray.init(**{k: v for k, v in init.items() if v is not None})
    elif plugins.extra:
        log.warning(
            "Ray was started before scaler train: its workers load plugins from their own "
            "environment; set SCALER_PLUGINS there for the --plugin modules",
            plugins=",".join(plugins.extra),
        )
    checkpoints = Path(str(composed.trainer.default_local_dir))
    states = checkpoints / "curriculum"
    if state_file is None:
        state_file = resume_state(checkpoints, states)
        if state_file is not None:
            log.info("resuming the curriculum with verl's latest checkpoint", state=str(state_file))
    actor = start_actor(
        actor_config(config.run),
        config.rollouts,
        plugins,
        state_file,
        state_dir=states,
        keep_every=int(composed.trainer.save_freq),
    )
    # Build the curriculum now: a bad pool or sandbox fails here, not inside verl's workers.
    ray.get(actor.step.remote())
    log.info("curriculum actor ready", steps=config.steps, batch_size=config.batch_size)
    auto_set_device(composed)
    try:
        if composed.trainer.use_v1:
            run_ppo(composed, task_runner_class=TaskRunnerV1)
        else:
            from verl.trainer.main_ppo_v0 import TaskRunner

            run_ppo(composed, task_runner_class=TaskRunner)
    except Exception as exc:
        # verl's own error is about what followed (e.g. groups with no trajectories); a reward
        # that could not be scored is the cause the user can act on.
        cause = reward_failure(actor)
        if cause is not None:
            raise ScalerError(f"verl stopped: {cause}") from exc
        raise
    title = f"{config.experiment}: {config.run.controller.name} / {config.run.curation.name}"
    files = ray.get(actor.finish.remote(title))
    reports: list[dict[str, Any]] = ray.get(actor.step_reports.remote())
    log.info(
        "verl finished",
        curriculum_step=ray.get(actor.step.remote()),
        report=next(iter(files), None),
        states=str(states),
    )
    return reports


def external_modules(*lists: str) -> str:
    """Comma-separated module lists joined, each module once, in order."""
    names = [name.strip() for text in lists for name in text.split(",") if name.strip()]
    return ",".join(dict.fromkeys(names))


def reward_failure(actor: Any) -> str | None:
    """The first rollout verl's reward workers could not score, as they told the actor."""
    import ray

    failures: list[str] = ray.get(actor.failures.remote())
    return failures[0] if failures else None


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ScalerError("scaler train needs Ray and verl: pip install 'scaler[verl]'") from exc
    return ray


class VerlTrainer:
    """``trainer = "verl"`` in a run config: ``scaler run`` launches it like ``scaler train``.

    verl drives its own loop (its dataloader pulls from the curriculum actor; its reward
    workers report back), so it is a ``scaler.trainer.LoopOwner``: ``scaler run`` calls
    ``launch`` instead of stepping it. Constructing one (a library ``Run`` stepping it) fails
    after the options were checked, naming the commands that run such a config.
    """

    def __init__(self, **options: Any) -> None:
        parse_options(options, None, prefix="")
        raise ScalerError(
            "trainer 'verl' is driven by verl's own training loop, not stepped by a Run: "
            "`scaler run CONFIG.toml` or `scaler train CONFIG.toml` launches it (`scaler train "
            "--dry-run` checks the composed verl config without a GPU)"
        )

    @staticmethod
    def launch(
        config: RunConfig,
        *,
        steps: int | None,
        out: Path | None,
        plugins: PluginSet,
    ) -> None:
        """``scaler run CONFIG [--steps N] [--out DIR]``: ``scaler train`` with those two set.

        ``--out`` becomes verl's checkpoint directory, where the curriculum state is kept too,
        so running the same command again resumes both.
        """
        if steps is not None:
            config = attrs.evolve(config, steps=steps)
        train_config = TrainConfig.from_run(config)
        if out is not None:
            train_config = attrs.evolve(train_config, checkpoint_dir=str(out))
        train(train_config, plugins=plugins.spec)

"""``scaler train``: a run config with ``trainer = "verl"`` turned into a verl GRPO run.

The run config stays the single source of the numbers the curriculum and verl must agree on:
prompts per step (``run.batch_size``), rollouts per prompt (``[trainer] rollouts``) and steps
(``run.steps``). The rest of the ``[trainer]`` table says where and how verl runs:

    [trainer]
    name = "verl"
    rollouts = 8                 # rollouts per prompt (GRPO group size)
    model = "/models/Qwen3-4B-Base"   # local path or hub id; required for a real run
    gpus_per_node = 8
    nnodes = 1
    tensor_parallel = 1          # vLLM tensor parallel size of the rollout
    max_prompt_length = 4096
    max_response_length = 8192
    max_tokens_per_gpu = 12288   # dynamic batching budget (default: prompt + response)
    gpu_memory_utilization = 0.6 # vLLM's share of GPU memory (default: verl's)
    device = "cuda"              # or "npu"; "cpu": a smoke test of the whole loop, tiny models
    project = "scaler"
    experiment = "..."           # default: the config file's stem
    checkpoint_dir = "..."       # default: verl's checkpoints/<project>/<experiment>
    save_freq = 50
    val_files = ["eval.parquet"] # held-out rows (scaler export); none: no validation
    test_freq = 10
    logger = ["console"]

``plan`` puts the paper's preset first, then these options, then the user's ``--override``
values, so a user can change anything verl knows without scaler standing in the way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import structlog

from scaler.config import Component, RunConfig
from scaler.errors import ConfigError, ScalerError
from scaler.plugins import PluginSpec, process_plugins
from scaler.train.preset import MODEL_PLACEHOLDER, compose_overrides

log = structlog.get_logger("scaler.train")

TRAINER_NAME = "verl"

#: Option -> (accepted types, a readable type name).
_OPTION_TYPES: dict[str, tuple[tuple[type[Any], ...], str]] = {
    "rollouts": ((int,), "integer"),
    "model": ((str,), "string"),
    "gpus_per_node": ((int,), "integer"),
    "nnodes": ((int,), "integer"),
    "tensor_parallel": ((int,), "integer"),
    "max_prompt_length": ((int,), "integer"),
    "max_response_length": ((int,), "integer"),
    "max_tokens_per_gpu": ((int,), "integer"),
    "gpu_memory_utilization": ((float, int), "number"),
    "device": ((str,), "string"),
    "project": ((str,), "string"),
    "experiment": ((str,), "string"),
    "checkpoint_dir": ((str,), "string"),
    "save_freq": ((int,), "integer"),
    "val_files": ((list, str), "list of paths"),
    "test_freq": ((int,), "integer"),
    "logger": ((list, str), "list of logger names"),
}
#: verl keys that the curriculum must agree on, and the run config field that sets each.
FROM_RUN_CONFIG: dict[str, str] = {
    "data.train_batch_size": "run.batch_size",
    "actor_rollout_ref.rollout.n": "trainer.rollouts",
    "trainer.total_training_steps": "run.steps",
    "data.train_max_samples": "run.steps",
}
#: Where verl runs: its own device names, and "cpu" through ``scaler.train.cpu``.
DEVICES = ("cuda", "npu", "cpu")
#: Options that must be >= 1.
_POSITIVE = (
    "rollouts",
    "gpus_per_node",
    "nnodes",
    "tensor_parallel",
    "max_prompt_length",
    "max_response_length",
    "max_tokens_per_gpu",
)


@attrs.frozen
class TrainConfig:
    """What a verl run needs from a run config, checked before verl sees any of it."""

    run: RunConfig
    model: str | None = None
    rollouts: int = 8
    gpus_per_node: int = 8
    nnodes: int = 1
    tensor_parallel: int = 1
    max_prompt_length: int = 4096
    max_response_length: int = 8192
    max_tokens_per_gpu: int | None = None
    gpu_memory_utilization: float | None = None
    device: str = "cuda"
    project: str = "scaler"
    experiment: str = "scaler"
    checkpoint_dir: str | None = None
    save_freq: int = 50
    val_files: tuple[str, ...] = ()
    test_freq: int = 10
    logger: tuple[str, ...] = ("console",)

    @property
    def steps(self) -> int:
        return self.run.steps

    @property
    def batch_size(self) -> int:
        return self.run.batch_size

    @property
    def model_path(self) -> str:
        """The model, or a placeholder (only a dry run may get this far without one)."""
        return self.model or MODEL_PLACEHOLDER

    @property
    def tokens_per_gpu(self) -> int:
        return self.max_tokens_per_gpu or self.max_prompt_length + self.max_response_length

    @classmethod
    def from_run(cls, config: RunConfig) -> TrainConfig:
        """Read the ``[trainer]`` table of a run config whose trainer is ``verl``."""
        if config.trainer.name != TRAINER_NAME:
            raise ConfigError(
                f"scaler train needs trainer = {TRAINER_NAME!r}, got {config.trainer.name!r} "
                "(configs/paper-qwen3-4b.toml is an example)",
                path=config.source,
                field="trainer.name",
            )
        options = parse_options(config.trainer.options, config.source)
        if "experiment" not in options:
            options["experiment"] = Path(config.source).stem if config.source else "scaler"
        return cls(run=config, **options)

    def require_model(self) -> None:
        """A real run needs a model; a dry run may go on with the placeholder."""
        if not self.model:
            raise ConfigError(
                "a real run needs the model: a local path or a hub id (--dry-run goes on "
                "with a placeholder)",
                path=self.run.source,
                field="trainer.model",
            )


def parse_options(
    options: Mapping[str, Any], source: str | None, prefix: str = "trainer."
) -> dict[str, Any]:
    """The ``[trainer]`` options as ``TrainConfig`` fields; errors name the file and field.

    ``prefix`` is how a field is named in errors: ``trainer.`` for a run config's table, empty
    where the caller adds the table itself (``scaler run``'s trainer factory).
    """
    values: dict[str, Any] = {}
    for key, value in options.items():
        field = f"{prefix}{key}"
        if key not in _OPTION_TYPES:
            raise ConfigError(
                f"unknown option of the verl trainer; it takes {', '.join(_OPTION_TYPES)}",
                path=source,
                field=field,
            )
        kinds, name = _OPTION_TYPES[key]
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ConfigError(f"must be a {name}, got {value!r}", path=source, field=field)
        if key in ("val_files", "logger"):
            items = [value] if isinstance(value, str) else value
            if not all(isinstance(item, str) and item for item in items):
                raise ConfigError(
                    f"must be a {name} (non-empty strings), got {value!r}",
                    path=source,
                    field=field,
                )
            value = tuple(items)
        elif key in _POSITIVE and value < 1:
            raise ConfigError(f"must be >= 1, got {value!r}", path=source, field=field)
        elif key == "gpu_memory_utilization":
            if not 0 < value <= 1:
                raise ConfigError(f"must be in (0, 1], got {value!r}", path=source, field=field)
            value = float(value)
        elif key == "device" and value not in DEVICES:
            raise ConfigError(
                f"must be one of {', '.join(DEVICES)}, got {value!r}", path=source, field=field
            )
        elif isinstance(value, str) and not value.strip():
            raise ConfigError("must not be empty", path=source, field=field)
        values[key] = value
    gpus = values.get("gpus_per_node", 8) * values.get("nnodes", 1)
    tp = values.get("tensor_parallel", 1)
    if gpus % tp:
        raise ConfigError(
            f"must divide the GPUs (gpus_per_node x nnodes = {gpus}), got {tp}",
            path=source,
            field=f"{prefix}tensor_parallel",
        )
    if source and values.get("val_files"):
        base = Path(source).parent
        values["val_files"] = tuple(
            f if Path(f).is_absolute() else str(base / f) for f in values["val_files"]
        )
    return values


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
    plugins: PluginSpec | None = None,
    state_file: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Start Ray, the curriculum actor, then verl's PPO loop; the curriculum's step reports.

    verl's ``run_ppo`` calls ``ray.init`` only when Ray is not up, so Ray is initialised here
    (local, or ``ray_address``) with the runtime environment verl would have used, and the
    named curriculum actor is in the cluster before verl's dataset and reward workers look for
    it. The reports are returned because the actor ends with this call (it is not detached).
    Needs GPUs and vLLM, except with ``device = "cpu"`` (``scaler.train.cpu``: tiny models),
    which sets ``preset.CPU_ENVIRONMENT`` in this process's environment for verl to read.
    ``plugins``: the plugin set of every Ray worker (default: this process's), passed to them
    through Ray's runtime environment.
    """
    from scaler.train.preset import CPU_ENVIRONMENT, validate

    spec = plugins or process_plugins().spec
    config.require_model()
    environment: dict[str, str] = {}
    if config.device == "cpu":
        # Before verl is first imported here: its __init__ reads these.
        environment = dict(CPU_ENVIRONMENT)
        os.environ.update(environment)
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)  # would hide the one "GPU" Ray is told of
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
        env_vars.update(spec.to_environ())
        if composed.transfer_queue.enable:
            env_vars["TRANSFER_QUEUE_ENABLE"] = "1"
        merged = OmegaConf.merge(runtime_env, init.pop("runtime_env", None) or {})
        init["runtime_env"] = OmegaConf.to_container(merged, resolve=True)
        if ray_address:
            init["address"] = ray_address
        log.info("starting ray", address=ray_address or "local")
        ray.init(**{k: v for k, v in init.items() if v is not None})
    elif spec.extra:
        log.warning(
            "Ray was started before scaler train: its workers load plugins from their own "
            "environment; set SCALER_PLUGINS there for the --plugin modules",
            plugins=",".join(spec.extra),
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
        spec,
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
        plugins: PluginSpec,
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
        train(train_config, plugins=plugins)

"""The ``[trainer]`` table of a verl run config, checked before verl sees any of it.

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

``launch.plan`` puts the paper's preset first, then these options, then the user's ``--override``
values, so a user can change anything verl knows without scaler standing in the way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from scaler.config import RunConfig
from scaler.errors import ConfigError

#: The model path of a dry run without ``[trainer] model``.
MODEL_PLACEHOLDER = "MODEL-PATH-NOT-SET"
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
        value = checked_option(key, value, _OPTION_TYPES, "the verl trainer", source, field)
        if key in _POSITIVE and value < 1:
            raise ConfigError(f"must be >= 1, got {value!r}", path=source, field=field)
        elif key == "gpu_memory_utilization":
            if not 0 < value <= 1:
                raise ConfigError(f"must be in (0, 1], got {value!r}", path=source, field=field)
            value = float(value)
        elif key == "device" and value not in DEVICES:
            raise ConfigError(
                f"must be one of {', '.join(DEVICES)}, got {value!r}", path=source, field=field
            )
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


def checked_option(
    key: str,
    value: Any,
    types: Mapping[str, tuple[tuple[type[Any], ...], str]],
    owner: str,
    source: str | None,
    field: str,
    hint: str = "",
) -> Any:
    """One option of a trainer's table, of a known name and its type: a list of strings (or one
    string) becomes a tuple, and no string may be empty. ``types``: option -> (accepted types,
    a readable type name); ``owner`` names the table's trainer in errors."""
    if key not in types:
        raise ConfigError(
            f"unknown option of {owner}; it takes {', '.join(types)}{hint}",
            path=source,
            field=field,
        )
    kinds, name = types[key]
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ConfigError(f"must be a {name}, got {value!r}", path=source, field=field)
    if list in kinds:
        items = [value] if isinstance(value, str) else value
        if not all(isinstance(item, str) and item for item in items):
            raise ConfigError(
                f"must be a {name} (non-empty strings), got {value!r}", path=source, field=field
            )
        return tuple(items)
    if isinstance(value, str) and not value.strip():
        raise ConfigError("must not be empty", path=source, field=field)
    return value

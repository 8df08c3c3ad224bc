"""The ``[trainer]`` table of a TRL run, and the paper's GRPO settings as TRL arguments.

The run config stays the single source of the numbers the curriculum and TRL must agree on:
prompts per step (``run.batch_size``), rollouts per prompt (``[trainer] rollouts``), steps
(``run.steps``) and the seed (``run.seed``). The rest of the table says where and how TRL runs:

    [trainer]
    name = "trl"
    rollouts = 8                  # completions per prompt (GRPO group size, >= 2)
    model = "/models/SmolLM2-135M-Instruct"   # a transformers directory or a .gguf file
    device = "auto"               # "cuda", or "cpu" (tiny models: a check of the loop)
    generation = "transformers"   # or "vllm": TRL's colocated vLLM, where vLLM is installed
    max_completion_length = 1024
    micro_batch_size = 8          # completions per forward/backward pass
    save_steps = 50               # checkpoint (and curriculum state) every N steps
    checkpoint_dir = "..."        # default: <run.out>/trl-<config file stem>
    report_to = ["tensorboard"]   # TRL's trackers (default: tensorboard where installed)

    [trainer.args]                # any GRPOConfig argument, applied last
    learning_rate = 1e-5

``grpo_arguments`` puts ``PAPER`` first, then the table's options, then ``[trainer.args]``,
so anything TRL knows can be changed without scaler standing in the way; only the arguments
the curriculum must agree on are refused there, naming the field that sets them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from scaler.config import RunConfig
from scaler.errors import ConfigError
from scaler.train.config import checked_option

TRAINER_NAME = "trl"
INSTALL_HINT = "pip install 'scaler[trl]'"

#: The paper's fixed GRPO settings (method.md section 5) in TRL's names: no KL (``beta`` 0),
#: lr 1e-6 constant after 20 warm-up steps, no weight decay, grad clip 1.0, clip ratio
#: 0.2/0.2, token-mean loss over the whole batch (TRL's ``dapo`` aggregation is verl's
#: ``token-mean``), advantages scaled within each group, temperature 1.0 / top_p 1.0, one pass
#: over each batch. ``shuffle_dataset`` is off: the rows come from the curriculum in its order.
PAPER: dict[str, Any] = {
    "beta": 0.0,
    "learning_rate": 1e-6,
    "warmup_steps": 20,
    "lr_scheduler_type": "constant_with_warmup",
    "weight_decay": 0.0,
    "max_grad_norm": 1.0,
    "epsilon": 0.2,
    "epsilon_high": 0.2,
    "loss_type": "dapo",
    "scale_rewards": "group",
    "temperature": 1.0,
    "top_p": 1.0,
    "num_iterations": 1,
    "shuffle_dataset": False,
    "logging_steps": 1,
    "save_strategy": "steps",
}

#: GRPOConfig arguments the curriculum must agree on, and the run config field that sets each.
FROM_RUN_CONFIG: dict[str, str] = {
    "num_generations": "trainer.rollouts",
    "generation_batch_size": "run.batch_size and trainer.rollouts",
    "steps_per_generation": "run.batch_size, trainer.rollouts and trainer.micro_batch_size",
    "per_device_train_batch_size": "trainer.micro_batch_size",
    "gradient_accumulation_steps": "trainer.micro_batch_size",
    "max_steps": "run.steps",
    "num_train_epochs": "run.steps",
    "output_dir": "trainer.checkpoint_dir",
    "use_vllm": "trainer.generation",
    "use_cpu": "trainer.device",
}
DEVICES = ("auto", "cuda", "cpu")
GENERATIONS = ("transformers", "vllm")

#: Option -> (accepted types, a readable type name).
_OPTION_TYPES: dict[str, tuple[tuple[type[Any], ...], str]] = {
    "rollouts": ((int,), "integer"),
    "model": ((str,), "string"),
    "device": ((str,), "string"),
    "generation": ((str,), "string"),
    "max_completion_length": ((int,), "integer"),
    "micro_batch_size": ((int,), "integer"),
    "save_steps": ((int,), "integer"),
    "checkpoint_dir": ((str,), "string"),
    "report_to": ((list, str), "list of tracker names"),
    "args": ((dict,), "table of GRPOConfig arguments"),
}
_POSITIVE = ("max_completion_length", "micro_batch_size", "save_steps")


@attrs.frozen
class TrlConfig:
    """What a TRL run needs from a run config, checked before TRL sees any of it."""

    run: RunConfig
    model: str | None = None
    rollouts: int = 8
    device: str = "auto"
    generation: str = "transformers"
    max_completion_length: int = 1024
    micro_batch_size: int = 8
    save_steps: int = 50
    checkpoint_dir: str | None = None
    report_to: tuple[str, ...] | None = None
    args: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def steps(self) -> int:
        return self.run.steps

    @property
    def batch_size(self) -> int:
        return self.run.batch_size

    @property
    def completions_per_step(self) -> int:
        return self.batch_size * self.rollouts

    @property
    def output_dir(self) -> Path:
        """Checkpoints, TRL's logs, and the curriculum's state and report (``curriculum/``).

        Not stamped with the time: running the same config again resumes from it.
        """
        if self.checkpoint_dir is not None:
            return Path(self.checkpoint_dir)
        stem = Path(self.run.source).stem if self.run.source else "default"
        return Path(self.run.out) / f"trl-{stem}"

    @classmethod
    def from_run(cls, config: RunConfig) -> TrlConfig:
        """Read the ``[trainer]`` table of a run config whose trainer is ``trl``."""
        if config.trainer.name != TRAINER_NAME:
            raise ConfigError(
                f"needs trainer = {TRAINER_NAME!r}, got {config.trainer.name!r}",
                path=config.source,
                field="trainer.name",
            )
        return cls(run=config, **parse_options(config.trainer.options, config.source))

    def require_model(self) -> None:
        if not self.model:
            raise ConfigError(
                "a TRL run needs the model: a transformers directory or a .gguf file",
                path=self.run.source,
                field="trainer.model",
            )

    def trackers(self) -> list[str]:
        """``report_to``, by default tensorboard where it is installed (else none)."""
        if self.report_to is not None:
            return list(self.report_to)
        return ["tensorboard"] if importlib.util.find_spec("tensorboard") else []


def parse_options(
    options: Mapping[str, Any], source: str | None, prefix: str = "trainer."
) -> dict[str, Any]:
    """The ``[trainer]`` options as ``TrlConfig`` fields; errors name the file and field."""
    values: dict[str, Any] = {}
    for key, value in options.items():
        field = f"{prefix}{key}"
        hint = " (any GRPOConfig argument goes in [trainer.args])"
        value = checked_option(key, value, _OPTION_TYPES, "the trl trainer", source, field, hint)
        if key == "report_to":
            value = tuple(item for item in value if item != "none")
        elif key == "args":
            for arg in value:
                if arg in FROM_RUN_CONFIG:
                    raise ConfigError(
                        f"the curriculum must agree with TRL on {arg}; set "
                        f"{FROM_RUN_CONFIG[arg]} instead",
                        path=source,
                        field=f"{field}.{arg}",
                    )
            value = dict(value)
        elif key == "rollouts" and value < 2:
            raise ConfigError(
                f"GRPO needs >= 2 rollouts per prompt, got {value!r}", path=source, field=field
            )
        elif key in _POSITIVE and value < 1:
            raise ConfigError(f"must be >= 1, got {value!r}", path=source, field=field)
        elif key == "device" and value not in DEVICES:
            raise ConfigError(
                f"must be one of {', '.join(DEVICES)}, got {value!r}", path=source, field=field
            )
        elif key == "generation" and value not in GENERATIONS:
            raise ConfigError(
                f"must be one of {', '.join(GENERATIONS)}, got {value!r}", path=source, field=field
            )
        values[key] = value
    return values


def grpo_arguments(config: TrlConfig, *, on_cpu: bool) -> dict[str, Any]:
    """GRPOConfig's arguments: ``PAPER``, then the run config's numbers, then ``[trainer.args]``.

    One optimizer step per curriculum step: the step's ``batch_size x rollouts`` completions
    are one generation batch, split into micro-batches whose gradients are accumulated.
    """
    completions = config.completions_per_step
    micro = config.micro_batch_size
    if completions % micro:
        raise ConfigError(
            f"must divide run.batch_size x trainer.rollouts = {completions}, got {micro}",
            path=config.run.source,
            field="trainer.micro_batch_size",
        )
    values = dict(PAPER)
    values.update(
        {
            "output_dir": str(config.output_dir),
            "max_steps": config.steps,
            "seed": config.run.seed,
            "num_generations": config.rollouts,
            "per_device_train_batch_size": micro,
            "gradient_accumulation_steps": completions // micro,
            "steps_per_generation": completions // micro,
            "max_completion_length": config.max_completion_length,
            "save_steps": config.save_steps,
            "report_to": config.trackers() or "none",
            "use_vllm": config.generation == "vllm",
            "use_cpu": on_cpu,
            "bf16": not on_cpu,
        }
    )
    if config.generation == "vllm":
        values["vllm_mode"] = "colocate"
    values.update(config.args)
    return values

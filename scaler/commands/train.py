"""``scaler train``: GRPO on verl with the curriculum of a run config.

verl, Hydra and Ray are imported only when the command runs, so that ``scaler`` without verl
installed loads nothing of them. The ``verl`` trainer name is registered with the other
trainers, in ``scaler.default_plugins.trainers``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import attrs
import click

from scaler.commands.common import (
    config_argument,
    json_option,
    key_values,
    log,
    plugins_of_run,
    print_json,
)
from scaler.config import Component, RunConfig
from scaler.hookspecs import hookimpl
from scaler.train.trl_config import TRAINER_NAME as TRL_NAME


@click.command("train")
@config_argument
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="verl: a Hydra override; trl: a GRPOConfig argument. Applied after the preset and "
    "the config (repeatable).",
)
@click.option(
    "--ray-address",
    metavar="ADDR",
    help="Join this Ray cluster (e.g. auto, or HOST:6379); default: start a local one.",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Curriculum state to resume from (a state saved by an earlier run).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the composed verl overrides and check them with verl's own validation; "
    "no GPU, no Ray.",
)
@json_option
def train(
    config_file: Path | None,
    overrides: tuple[str, ...],
    ray_address: str | None,
    state_file: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Train a model with GRPO on the curriculum of CONFIG: verl, or TRL (trainer = "trl").

    \b
    trainer = "verl" (the default):
    The overrides are the paper's preset (GRPO, no KL, lr 1e-6 after 20 warm-up steps,
    clip 0.2/0.2, token-mean loss, vLLM at temperature 1), then the config (run.batch_size
    prompts x [trainer] rollouts per step, run.steps steps, model, GPUs), then --override.
    The curriculum runs as a Ray actor that verl's dataset pulls rows from and its reward
    function reports scores to; its per-step metrics, report and plots go to
    CHECKPOINT_DIR/curriculum/. With device = "cpu" in [trainer] the whole loop runs on
    a CPU (a smoke test with a tiny model; docs/training.md).

    \b
    trainer = "trl": GRPO with TRL's GRPOTrainer in this process, on one GPU (or a CPU for
    tiny models). The arguments are the paper's preset in TRL's names, then the config's
    [trainer] table and [trainer.args], then --override (any GRPOConfig argument, its value
    JSON where it parses). Checkpoints and the curriculum's files go to the output directory;
    running the command again resumes from its latest checkpoint (docs/training.md).

    \b
      scaler train configs/paper-qwen3-4b.toml --dry-run
      scaler train configs/one-gpu.toml --override trainer.logger=[console,wandb]
      scaler train configs/trl-one-gpu.toml --override learning_rate=1e-5
    """
    from scaler.train import launch
    from scaler.train.config import TrainConfig

    run_config = launch.load(config_file)
    if run_config.trainer.name == TRL_NAME:
        if ray_address or state_file:
            raise click.UsageError(
                "trainer 'trl' runs in this process and resumes from its own checkpoints: "
                "--ray-address and --state are for trainer 'verl'"
            )
        train_trl(run_config, overrides, dry_run, as_json)
        return
    train_config = TrainConfig.from_run(run_config)
    planned = launch.plan(train_config, overrides)
    if dry_run:
        from scaler.train.preset import to_dict, validate

        if train_config.model is None:
            log.warning(
                "no [trainer] model: a placeholder path stands in for this dry run",
                field="trainer.model",
            )
        composed = validate(planned)
        if as_json:
            print_json(to_dict(composed))
        else:
            click.echo("\n".join(planned))
        return
    launch.train(
        train_config,
        overrides,
        ray_address,
        plugins=plugins_of_run().spec,
        state_file=state_file,
    )


def train_trl(config: RunConfig, overrides: Sequence[str], dry_run: bool, as_json: bool) -> None:
    """``scaler train`` for ``trainer = "trl"``: ``--override`` pairs join ``[trainer.args]``."""
    from scaler.train import trl_launch
    from scaler.train.trl_config import FROM_RUN_CONFIG, TrlConfig, grpo_arguments

    options = dict(config.trainer.options)
    args = dict(options.get("args") or {})
    for key, value in key_values(overrides, "--override").items():
        if key in FROM_RUN_CONFIG:
            raise click.BadParameter(
                f"the curriculum must agree with TRL on {key}; set {FROM_RUN_CONFIG[key]} in "
                "the run config instead",
                param_hint="--override",
            )
        args[key] = value
    options["args"] = args
    trl_config = TrlConfig.from_run(
        attrs.evolve(config, trainer=Component(config.trainer.name, options))
    )
    if dry_run:
        composed = grpo_arguments(trl_config, on_cpu=trl_config.device == "cpu")
        if as_json:
            print_json(composed)
        else:
            click.echo("\n".join(f"{key}={json.dumps(value)}" for key, value in composed.items()))
        return
    trl_launch.train(trl_config, plugins_of_run())


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(train)

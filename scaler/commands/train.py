"""``scaler train``: GRPO on verl with the curriculum of a run config.

verl, Hydra and Ray are imported only when the command runs, so that ``scaler`` without verl
installed loads nothing of them. The ``verl`` trainer name is registered with the other
trainers, in ``scaler.default_plugins.trainers``.
"""

from __future__ import annotations

from pathlib import Path

import click

from scaler.commands.common import config_argument, json_option, log, plugins_of_run, print_json
from scaler.hookspecs import hookimpl


@click.command("train")
@config_argument
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="A verl Hydra override, applied after the preset and the config (repeatable).",
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
    """Train a model with verl's GRPO on the curriculum of CONFIG (trainer = "verl").

    \b
    The overrides are the paper's preset (GRPO, no KL, lr 1e-6 after 20 warm-up steps,
    clip 0.2/0.2, token-mean loss, vLLM at temperature 1), then the config (run.batch_size
    prompts x [trainer] rollouts per step, run.steps steps, model, GPUs), then --override.
    The curriculum runs as a Ray actor that verl's dataset pulls rows from and its reward
    function reports scores to; its per-step metrics, report and plots go to
    CHECKPOINT_DIR/curriculum/. With device = "cpu" in [trainer] the whole loop runs on
    a CPU (a smoke test with a tiny model; docs/training.md).

    \b
      scaler train configs/paper-qwen3-4b.toml --dry-run
      scaler train configs/one-gpu.toml --override trainer.logger=[console,wandb]
    """
    from scaler.train import launch
    from scaler.train.config import TrainConfig

    train_config = TrainConfig.from_run(launch.load(config_file))
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


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(train)

"""``trainer = "trl"``: GRPO with TRL on one GPU, the curriculum in the same process.

Importing this module imports no torch or TRL; ``scaler.train.trl_grpo`` does, when a run
starts, so ``scaler`` without TRL installed still lists and checks the ``trl`` trainer.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from scaler.config import RunConfig
from scaler.errors import ScalerError
from scaler.train.trl_config import INSTALL_HINT, TrlConfig, parse_options

if TYPE_CHECKING:
    from scaler.curriculum.scheduler import StepReport
    from scaler.registry import PluginSet

#: What a TRL run imports; a missing one is named with the extra that brings it.
NEEDS = ("torch", "transformers", "datasets", "trl")


def train(config: TrlConfig, plugins: PluginSet) -> list[StepReport]:
    """Run ``config`` to ``run.steps`` (resuming from its output directory); the reports of
    the steps this call ran."""
    missing = [name for name in NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise ScalerError(f"trainer 'trl' needs {', '.join(missing)}: {INSTALL_HINT}")
    from scaler.train.trl_grpo import train_grpo

    title = f"trl: {config.run.controller.name} / {config.run.curation.name}"
    return train_grpo(config, plugins, title)


class TrlTrainer:
    """``trainer = "trl"`` in a run config: ``scaler run`` and ``scaler train`` launch it.

    TRL drives its own loop (``scaler.trainer.LoopOwner``): the curriculum is stepped from
    inside it, not by a ``Run``. Constructing one fails after the options were checked,
    naming the commands that run such a config.
    """

    def __init__(self, **options: Any) -> None:
        parse_options(options, None, prefix="")
        raise ScalerError(
            "trainer 'trl' is driven by TRL's own training loop, not stepped by a Run: "
            "`scaler run CONFIG.toml` or `scaler train CONFIG.toml` launches it"
        )

    @staticmethod
    def launch(
        config: RunConfig,
        *,
        steps: int | None,
        out: Path | None,
        plugins: PluginSet,
    ) -> None:
        """``--steps`` sets ``run.steps``; ``--out`` the output directory (checkpoints and the
        curriculum's files), so running the same command again resumes."""
        if steps is not None:
            config = attrs.evolve(config, steps=steps)
        trl_config = TrlConfig.from_run(config)
        if out is not None:
            trl_config = attrs.evolve(trl_config, checkpoint_dir=str(out))
        train(trl_config, plugins)

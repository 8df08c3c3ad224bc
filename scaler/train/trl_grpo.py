"""GRPO on TRL's ``GRPOTrainer``, fed by the live curriculum in this process.

TRL pulls its prompts from a dataset through a dataloader that fetches a batch ahead, which
would plan a step before the last one was scored. So TRL is given placeholder rows it never
shows the model: ``CurriculumGRPOTrainer`` swaps each generation batch for the curriculum's
next step (its ``batch_size`` prompts, each repeated ``rollouts`` times, as TRL orders a group)
at the moment TRL generates, when every rollout of the previous step has been scored. Rewards
are scaler's verifiers (+1 / -1, the paper's reward); each scored rollout goes back to the
curriculum, whose step closes when its last rollout is in: before TRL's optimizer step, so a
checkpoint of step n holds the model trained on steps 1..n and the curriculum state of step n
(``curriculum/step_<n>.json``, kept for every ``save_steps`` step). A rerun with the same
output directory resumes both from TRL's latest checkpoint.

One generation batch is one curriculum step and one optimizer step (``trl_config``), so TRL's
``global_step`` and the curriculum's step are the same number.

Imports torch, transformers, datasets and TRL: only ``scaler.train.trl_launch`` imports it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PrinterCallback,
    ProgressCallback,
    TrainerCallback,
)
from trl import GRPOConfig, GRPOTrainer

from scaler.catalog import resolve_envs
from scaler.curriculum.metrics import scalars
from scaler.curriculum.scheduler import Scheduler, StepReport
from scaler.curriculum.state import CurriculumState
from scaler.errors import ConfigError, ScalerError
from scaler.instances import InstanceFactory
from scaler.logs import get_logger
from scaler.registry import PluginSet
from scaler.sandbox.selection import build_sandbox
from scaler.train.service import CurriculumService, state_file
from scaler.train.trl_config import TrlConfig, grpo_arguments
from scaler.verify import compute_score

log = get_logger(__name__)

#: What TRL's placeholder rows say; the model never sees it (``CurriculumGRPOTrainer``).
PLACEHOLDER = [{"role": "user", "content": "(replaced by the curriculum's next step)"}]
#: ``extra_info`` key of a row that repeats a prompt to fill a step whose instances failed.
FILLER = "filler"
CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


class CurriculumReward:
    """TRL's reward function: scaler's verifier per completion; the scores go to the curriculum.

    TRL hands it every column of the rows as keyword arguments, ``extra_info`` among them.
    """

    __name__ = "scaler"

    def __init__(self, service: CurriculumService, plugins: PluginSet) -> None:
        self.service = service
        self.plugins = plugins

    def __call__(
        self, completions: Sequence[Any], extra_info: Sequence[Mapping[str, Any]], **_: Any
    ) -> list[float]:
        scores = []
        for completion, info in zip(completions, extra_info, strict=True):
            score = compute_score(_text(completion), info, self.plugins)
            if not info.get(FILLER):
                self.service.report(info, score["acc"])
            scores.append(float(score["score"]))
        return scores


def _text(completion: Any) -> str:
    """A completion's text: TRL gives chat completions as a list of messages."""
    if isinstance(completion, str):
        return completion
    return "".join(str(message.get("content") or "") for message in completion)


class CurriculumGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` whose generation batches are the curriculum's steps, and whose logs
    carry the curriculum's figures of the last closed step (``curriculum.metrics.scalars``)
    to every tracker in ``report_to``."""

    def __init__(self, *args: Any, service: CurriculumService, **kwargs: Any) -> None:
        self.service = service
        super().__init__(*args, **kwargs)

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        if self.model.training:
            inputs = self._curriculum_rows(len(inputs))
        batch: dict[str, Any] = super()._generate_and_score_completions(inputs)
        return batch

    def _curriculum_rows(self, count: int) -> list[dict[str, Any]]:
        rollouts = self.num_generations
        rows = self.service.next_step_rows()
        if not rows:
            raise ScalerError(
                f"step {self.service.scheduler.step + 1} has no instance: every one failed "
                "to generate (the log says why)"
            )
        if count % rollouts or len(rows) > count // rollouts:
            raise ScalerError(
                f"a generation batch of {count} completions cannot hold "
                f"{len(rows)} prompts x {rollouts} rollouts"
            )
        return [
            {"prompt": row["prompt"], "extra_info": row["extra_info"]}
            for row in filled(rows, count // rollouts)
            for _ in range(rollouts)
        ]

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if self.model.training and self.service.reports:
            logs.update(scalars(self.service.reports[-1]))
        super().log(logs, start_time)


def filled(rows: list[dict[str, Any]], prompts: int) -> list[dict[str, Any]]:
    """``rows`` filled up to ``prompts`` by repeating them, the repeats marked as fillers
    (trained on, not reported: the curriculum expects one group per planned prompt)."""
    out = list(rows)
    for index in range(len(rows), prompts):
        row = rows[index % len(rows)]
        out.append({**row, "extra_info": {**row["extra_info"], FILLER: True}})
    return out


class LogLines(TrainerCallback):
    """TRL's figures of each logged step as a log line (stderr, where the CLI logs), instead
    of the dicts transformers prints to stdout, which is for a command's data."""

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
        if logs:
            figures = {
                key: round(value, 4) if isinstance(value, float) else value
                for key, value in logs.items()
                if not key.startswith("curriculum/")
            }
            log.info("trl step", step=state.global_step, **figures)


def train_grpo(config: TrlConfig, plugins: PluginSet, title: str = "") -> list[StepReport]:
    """Train ``config``'s model on its curriculum; the step reports of this call.

    Resumes from the latest ``checkpoint-<n>`` in the output directory, with the curriculum
    state of step n; a run already at ``run.steps`` only rewrites its report.
    """
    config.require_model()
    out = config.output_dir
    states = out / "curriculum"
    checkpoint = latest_checkpoint(out)
    curriculum = None
    if checkpoint is not None:
        step = int(CHECKPOINT.match(checkpoint.name).group(1))  # type: ignore[union-attr]
        saved = state_file(states, step)
        if not saved.exists():
            raise ScalerError(
                f"{checkpoint} is step {step}, but {saved} is missing: the curriculum state of "
                "that checkpoint was not kept"
            )
        curriculum = CurriculumState.load(saved)
        log.info("resuming", checkpoint=str(checkpoint), step=step)
    on_cpu = runs_on_cpu(config)
    try:
        arguments = GRPOConfig(**grpo_arguments(config, on_cpu=on_cpu))
    except (TypeError, ValueError) as exc:
        raise ScalerError(
            f"{config.run.source or 'the run config'}: TRL refused the GRPO arguments "
            f"([trainer] and [trainer.args]): {exc}"
        ) from exc
    model, tokenizer = load_model(config, out)
    run = config.run
    sandbox = build_sandbox(plugins, run.sandbox.name, run.sandbox.options)
    try:
        try:
            scheduler = Scheduler(
                resolve_envs(run, plugins),
                run.curriculum(),
                InstanceFactory(sandbox, plugins, run.prompt.name),
                plugins,
                curriculum,
            )
        except ConfigError as exc:
            raise ConfigError(exc.message, path=run.source, field=exc.field) from exc
        try:
            service = CurriculumService(
                scheduler, config.rollouts, grace_s=0.0, state_dir=states,
                keep_every=config.save_steps,
            )  # fmt: skip
            trainer = CurriculumGRPOTrainer(
                model=model,
                processing_class=tokenizer,
                reward_funcs=[CurriculumReward(service, plugins)],
                args=arguments,
                train_dataset=Dataset.from_list([{"prompt": PLACEHOLDER}] * placeholders(config)),
                service=service,
            )
            trainer.remove_callback(PrinterCallback)
            trainer.remove_callback(ProgressCallback)
            trainer.add_callback(LogLines())
            trainer.train(resume_from_checkpoint=None if checkpoint is None else str(checkpoint))
            trainer.save_model(str(out / "model"))
            files = service.finish(title)
            log.info(
                "trl finished",
                step=scheduler.step,
                model=str(out / "model"),
                report=str(files[0]) if files else None,
            )
            return list(service.reports)
        finally:
            scheduler.close()
    finally:
        sandbox.close()


def load_model(config: TrlConfig, out: Path) -> tuple[Any, Any]:
    """The model and its tokenizer; one that cannot be loaded is an error naming the config's
    ``trainer.model`` (a path that is not there, a hub id without the network ...)."""
    try:
        path = transformers_model(Path(config.model or ""), out)
        tokenizer = AutoTokenizer.from_pretrained(path)
        # fp32 weights even where bf16 computes: a bf16 weight cannot take a 1e-6 step.
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot load the model {config.model!r}: {exc}",
            path=config.run.source,
            field="trainer.model",
        ) from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def placeholders(config: TrlConfig) -> int:
    """Rows of TRL's dataset: one per prompt of the run (TRL takes ``batch_size`` a step)."""
    return config.steps * config.batch_size


def runs_on_cpu(config: TrlConfig) -> bool:
    if config.device == "cpu":
        return True
    if torch.cuda.is_available():
        return False
    if config.device == "cuda":
        raise ScalerError(
            f"{config.run.source or 'the run config'}: [trainer] device = 'cuda', but torch "
            "sees no CUDA device"
        )
    log.warning("no CUDA device: training on the CPU (a check of the loop, tiny models only)")
    return True


def latest_checkpoint(out: Path) -> Path | None:
    """TRL's newest ``checkpoint-<n>`` under ``out``."""
    found = [
        (int(match.group(1)), path)
        for path in out.glob("checkpoint-*")
        if path.is_dir() and (match := CHECKPOINT.match(path.name))
    ]
    return max(found)[1] if found else None


def transformers_model(path: Path, out: Path) -> Path:
    """``path`` as a transformers directory: a ``.gguf`` file is converted once, into
    ``out/base-model`` (TRL's checkpoints and vLLM need a directory)."""
    if path.suffix != ".gguf":
        return path
    target = out / "base-model"
    if not (target / "config.json").exists():
        log.info("converting a GGUF model", source=str(path), target=str(target))
        kwargs = {"gguf_file": path.name}
        tokenizer = AutoTokenizer.from_pretrained(path.parent, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(path.parent, dtype=torch.float32, **kwargs)
        # Written aside and renamed: a conversion cut short is not taken for a model.
        partial = out / "base-model.partial"
        shutil.rmtree(partial, ignore_errors=True)
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    return target

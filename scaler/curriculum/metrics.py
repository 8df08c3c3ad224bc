"""``metrics.jsonl``: one StepReport per line, the record every run keeps of its steps.

``scaler run`` and the verl bridge write the same file, so the report, the plots and a
notebook read a simulated run and a real training run alike. Lines are appended and flushed
as steps close; a resumed run first cuts the file back to the step it resumes from.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import IO, Any

from scaler.curriculum.scheduler import StepReport
from scaler.files import write_atomic

FILE_NAME = "metrics.jsonl"


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The records of a metrics file; none if it is absent."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def keep_metrics_until(path: Path, step: int) -> None:
    """Drop the records of steps after ``step``: a resumed run does those steps again."""
    if path.exists():
        kept = [m for m in read_metrics(path) if m["step"] <= step]
        write_atomic(path, "".join(json.dumps(m) + "\n" for m in kept))


def append_metrics(stream: IO[str], report: StepReport) -> None:
    """One record, flushed: a killed run keeps every step it reported."""
    stream.write(json.dumps(report.to_dict()) + "\n")
    stream.flush()


def scalars(report: StepReport) -> dict[str, float]:
    """The step's figures as flat named numbers, for a tracker (TensorBoard, wandb, a trainer's
    logger): the active set, the informative share, per env its difficulty (the controller's
    level) and accuracy, and the retirements by reason."""
    figures: dict[str, float] = {
        "curriculum/active_envs": len(report.active),
        "curriculum/added": len(report.added),
        "curriculum/retired": len(report.retired),
        "curriculum/informative_share": report.informative_fraction,
        "curriculum/mean_accuracy": report.mean_accuracy,
        "curriculum/instance_wait_s": report.instance_wait_s,
        "curriculum/step_s": report.step_s,
    }
    for env_id, env in sorted(report.envs.items()):
        figures[f"curriculum/difficulty/{env_id}"] = env.difficulty
        if env.accuracy is not None:
            figures[f"curriculum/accuracy/{env_id}"] = env.accuracy
    for reason, count in sorted(Counter(r.reason for r in report.retired).items()):
        figures[f"curriculum/retired/{reason}"] = count
    return figures

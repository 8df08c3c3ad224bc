"""``scaler.train.tracking``: the curriculum's figures in every record verl's tracker logs.

The end-to-end check (verl's file logger in a CPU GRPO run holds the curriculum actor's
figures of each step) is in test_cpu_grpo.py; this one needs verl but no run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scaler.train.launch import TRACKING_MODULE, external_modules


def test_external_module_lists_are_joined_once_each_in_order() -> None:
    assert external_modules("", "scaler.train.cpu", TRACKING_MODULE) == (
        "scaler.train.cpu,scaler.train.tracking"
    )
    assert external_modules("mine, scaler.train.tracking", TRACKING_MODULE) == (
        "mine,scaler.train.tracking"
    )


@pytest.mark.verl
def test_every_backend_gets_the_curriculum_figures_of_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("verl", reason="verl is not installed (the verl tox env has it)")
    from verl.utils.tracking import Tracking

    from scaler.train.tracking import install

    monkeypatch.setattr(Tracking, "log", Tracking.log)  # restored after the test
    path = tmp_path / "verl.jsonl"
    monkeypatch.setenv("VERL_FILE_LOGGER_PATH", str(path))
    install(lambda step: {"curriculum/mean_accuracy": step / 10} if step < 3 else {})
    install(lambda step: {"curriculum/mean_accuracy": step / 4} if step < 3 else {})
    tracking = Tracking("p", "e", default_backend=["file"])
    for step in (1, 2, 3):
        tracking.log({"actor/loss": 0.5}, step)
    tracking.finish()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["data"] for r in records] == [
        {"actor/loss": 0.5, "curriculum/mean_accuracy": 0.25},
        {"actor/loss": 0.5, "curriculum/mean_accuracy": 0.5},
        {"actor/loss": 0.5},
    ]

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from scaler.curriculum.config import CurriculumConfig
from scaler.curriculum.scheduler import Scheduler
from scaler.curriculum.state import CurriculumState
from scaler.instances import InstanceFactory
from scaler.plugins import Plugins
from scaler.train.service import STATE_FILE, CurriculumService
from tests.curriculum.test_scheduler import ENVS

CONFIG = CurriculumConfig(batch_size=6, curation_options={"window": 3})


def _service(sandbox: Any, plugins: Plugins, state: CurriculumState | None = None,
             grace_s: float = 10.0) -> CurriculumService:  # fmt: skip
    scheduler = Scheduler(ENVS, CONFIG, InstanceFactory(sandbox, plugins), plugins, state)
    return CurriculumService(scheduler, rollouts_per_prompt=4, grace_s=grace_s)


def _train_step(service: CurriculumService, right: int, delay_s: float = 0.0) -> list[dict]:
    """Pull a batch as verl's dataloader does, then score it from 'reward worker' threads."""
    rows = [service.next_row() for _ in range(CONFIG.batch_size)]

    def score(row: dict) -> None:
        time.sleep(delay_s)
        for i in range(service.rollouts):
            service.report(row["extra_info"], 1.0 if i < right else 0.0)

    threads = [threading.Thread(target=score, args=(row,)) for row in rows]
    for thread in threads:
        thread.start()
    if not delay_s:
        for thread in threads:
            thread.join()
    return rows


def test_steps_close_when_every_rollout_is_in(sandbox: Any, plugins: Plugins) -> None:
    service = _service(sandbox, plugins)
    try:
        rows = _train_step(service, right=4, delay_s=0.2)
        assert {r["extra_info"]["step"] for r in rows} == {1}
        assert {r["extra_info"]["level"] for r in rows} == {0}
        second = _train_step(service, right=2)
        assert service.reports[0].mean_accuracy == 1.0
        assert {r["extra_info"]["level"] for r in second} == {1}, "levels moved up"
        assert [r.step for r in service.reports] == [1, 2], "closed by its last rollout"
        assert service.reports[1].informative_fraction == 1.0
        assert service.next_row()["extra_info"]["step"] == 3
    finally:
        service.scheduler.close()


def test_missing_rollouts_close_the_step_after_the_grace(sandbox: Any, plugins: Plugins) -> None:
    service = _service(sandbox, plugins, grace_s=0.3)
    try:
        rows = [service.next_row() for _ in range(CONFIG.batch_size)]
        for row in rows[:3]:
            service.report(row["extra_info"], 1.0)
        service.report({**rows[0]["extra_info"], "step": 7}, 1.0)
        service.next_row()
        (report,) = service.reports
        assert sum(s.rollouts for s in report.envs.values()) == 3
    finally:
        service.scheduler.close()


def test_saved_state_restores_the_same_run(sandbox: Any, plugins: Plugins,
                                           tmp_path: Path) -> None:  # fmt: skip
    whole = _service(sandbox, plugins)
    try:
        for right in (4, 4, 1):
            _train_step(whole, right)
        whole.next_row()
        expected = whole.state().to_json()
    finally:
        whole.scheduler.close()
    first = _service(sandbox, plugins)
    try:
        for right in (4, 4):
            _train_step(first, right)
        first.next_row()
        saved = first.save(tmp_path / "global_step_2")
        assert saved.name == STATE_FILE
    finally:
        first.scheduler.close()
    second = _service(sandbox, plugins, CurriculumState.load(saved))
    try:
        _train_step(second, 1)
        second.next_row()
        assert second.state().to_json() == expected
    finally:
        second.scheduler.close()


def test_every_closed_step_is_saved_for_the_trainers_checkpoints(
    sandbox: Any, plugins: Plugins, tmp_path: Path
) -> None:
    from scaler.errors import ScalerError
    from scaler.train.service import resume_state

    states = tmp_path / "curriculum"
    scheduler = Scheduler(ENVS, CONFIG, InstanceFactory(sandbox, plugins), plugins)
    service = CurriculumService(scheduler, 4, state_dir=states, keep_every=2)
    try:
        for right in (4, 3, 1):
            _train_step(service, right)
        service.next_row()
    finally:
        scheduler.close()
    assert sorted(p.name for p in states.glob("step_*.json")) == ["step_2.json", "step_3.json"]
    checkpoints = tmp_path / "checkpoints"
    assert resume_state(checkpoints, states) is None
    checkpoints.mkdir()
    (checkpoints / "latest_checkpointed_iteration.txt").write_text("2")
    path = resume_state(checkpoints, states)
    assert path == states / "step_2.json" and CurriculumState.load(path).step == 2
    (checkpoints / "latest_checkpointed_iteration.txt").write_text("1")
    with pytest.raises(ScalerError, match="step 1"):
        resume_state(checkpoints, states)


def test_metrics_are_kept_cut_back_on_resume_and_reported(
    sandbox: Any, plugins: Plugins, tmp_path: Path
) -> None:
    from scaler.curriculum.metrics import read_metrics

    states = tmp_path / "curriculum"
    scheduler = Scheduler(ENVS, CONFIG, InstanceFactory(sandbox, plugins), plugins)
    service = CurriculumService(scheduler, 4, state_dir=states)
    try:
        for right in (4, 3, 1):
            _train_step(service, right)
    finally:
        scheduler.close()
    metrics = read_metrics(states / "metrics.jsonl")
    assert [m["step"] for m in metrics] == [1, 2, 3]
    assert metrics[0]["mean_accuracy"] == 1.0 and metrics[2]["mean_accuracy"] == 0.25
    # verl resumes from its checkpoint of step 2: step 3 is trained again.
    state = CurriculumState.load(states / "step_2.json")
    scheduler = Scheduler(ENVS, CONFIG, InstanceFactory(sandbox, plugins), plugins, state)
    resumed = CurriculumService(scheduler, 4, state_dir=states)
    try:
        assert [m["step"] for m in read_metrics(states / "metrics.jsonl")] == [1, 2]
        _train_step(resumed, 2)
    finally:
        scheduler.close()
    metrics = read_metrics(states / "metrics.jsonl")
    assert [(m["step"], m["mean_accuracy"]) for m in metrics][1:] == [(2, 0.75), (3, 0.5)]
    files = resumed.finish("test")
    assert states / "report.md" in files and "# Curriculum run" in files[0].read_text()
    pngs = [f for f in files if f.suffix == ".png"]
    assert pngs and all(f.read_bytes().startswith(b"\x89PNG") for f in pngs)

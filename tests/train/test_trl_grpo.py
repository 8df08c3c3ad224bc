"""GRPO through TRL's GRPOTrainer with the live curriculum, on a CPU: ``trainer = "trl"``.

A tiny random Phi model that favours the tokens ``\\boxed{3}`` and ``\\boxed{4}`` trains on a
plugin environment whose answers are 3 or 4, so its rollouts disagree and every step moves the
model. Runs go through ``scaler --plugin ... run`` as a user runs them. Seconds each.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from scaler.curriculum.metrics import read_metrics
from tests import tiny_model

pytestmark = pytest.mark.trl
pytest.importorskip("trl", reason="TRL is not installed (the trl tox env has it)")

PLUGIN = Path(__file__).resolve().parent / "three_or_four_env.py"
ENVS = ("three-or-four", "gcd-lcm")
#: A figure of TRL's log for a step that the step's rollouts decide (not its timings).
TRL_FIGURES = ("loss", "grad_norm", "reward", "reward_std", "entropy", "num_tokens")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "model"
    return tiny_model.build(path, favour=("\\boxed{3}", "\\boxed{4}"))


def _config(path: Path, model: Path, steps: int, **args: Any) -> Path:
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in args.items())
    path.write_text(
        f"""[run]
steps = {steps}
batch_size = 2
seed = 3

[pool]
envs = {json.dumps(list(ENVS))}

[sandbox]
name = "process"

[trainer]
name = "trl"
model = "{model}"
device = "cpu"
rollouts = 4
max_completion_length = 12
micro_batch_size = 4
save_steps = 2
report_to = ["tensorboard"]

[trainer.args]
learning_rate = 0.05
warmup_steps = 0
{extra}""",
        encoding="utf-8",
    )
    return path


def _train(run: Any, config: Path, out: Path) -> None:
    code, _, err = run("--plugin", str(PLUGIN), "run", str(config), "--out", str(out))
    assert code == 0, err


def _log(out: Path, checkpoint: int) -> dict[int, dict[str, Any]]:
    state = json.loads((out / f"checkpoint-{checkpoint}" / "trainer_state.json").read_text())
    return {entry["step"]: entry for entry in state["log_history"] if "loss" in entry}


def _steps(out: Path) -> list[dict[str, Any]]:
    """metrics.jsonl without its timings."""
    return [
        {key: value for key, value in record.items() if not key.endswith("_s")}
        for record in read_metrics(out / "curriculum" / "metrics.jsonl")
    ]


def test_grpo_steps_train_on_the_live_curriculum(run: Any, model: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _train(run, _config(tmp_path / "run.toml", model, steps=3), out)
    steps = _steps(out)
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert all(s["groups"] == 2 and set(s["active"]) == set(ENVS) for s in steps)
    # Every rollout was scored by scaler's verifier and reached the curriculum: TRL's mean
    # reward (+1 / -1) is the curriculum's mean accuracy of the same step, mapped.
    log = _log(out, 3)
    for record in steps:
        figures = log[record["step"]]
        assert figures["reward"] == pytest.approx(2 * record["mean_accuracy"] - 1)
        assert figures["curriculum/mean_accuracy"] == record["mean_accuracy"]
        assert figures["curriculum/informative_share"] == record["informative_fraction"]
        assert figures["curriculum/active_envs"] == 2
    assert any(0 < s["mean_accuracy"] < 1 for s in steps), "no step had a learning signal"
    assert any(figures["grad_norm"] > 0 for figures in log.values())
    # Checkpoints every 2 steps and at the end, each with the curriculum state of its step.
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-3"]
    kept = sorted(p.name for p in (out / "curriculum").glob("step_*.json"))
    assert kept == ["step_2.json", "step_3.json"]
    assert (out / "curriculum" / "report.md").exists()
    assert (out / "model" / "model.safetensors").exists()
    # TRL's tracker got the curriculum's figures beside its own.
    events = b"".join(p.read_bytes() for p in (out / "runs").rglob("events.out.tfevents.*"))
    assert b"curriculum/difficulty/three-or-four" in events and b"rewards/scaler/mean" in events


def test_a_resumed_run_continues_as_if_never_stopped(run: Any, model: Path, tmp_path: Path) -> None:
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    config = _config(tmp_path / "run.toml", model, steps=4)
    _train(run, config, whole)
    _train(run, config, cut)
    # A crash after step 3: the checkpoint of step 4 and its curriculum state never written.
    shutil.rmtree(cut / "checkpoint-4")
    (cut / "curriculum" / "step_4.json").unlink()
    _train(run, config, cut)
    assert _steps(cut) == _steps(whole)
    assert [s["step"] for s in _steps(cut)] == [1, 2, 3, 4]
    state = "curriculum/step_4.json"
    assert (cut / state).read_text() == (whole / state).read_text()
    resumed, uninterrupted = _log(cut, 4), _log(whole, 4)
    for step in (3, 4):
        for figure in TRL_FIGURES:
            assert resumed[step][figure] == uninterrupted[step][figure], (step, figure)
    weights = "model/model.safetensors"
    assert (cut / weights).read_bytes() == (whole / weights).read_bytes()


def test_a_finished_run_run_again_trains_no_more(run: Any, model: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = _config(tmp_path / "run.toml", model, steps=2)
    _train(run, config, out)
    before = (out / "model" / "model.safetensors").read_bytes()
    _train(run, config, out)
    assert [s["step"] for s in _steps(out)] == [1, 2]
    assert (out / "model" / "model.safetensors").read_bytes() == before


def test_a_checkpoint_without_its_curriculum_state_is_refused(
    run: Any, model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    config = _config(tmp_path / "run.toml", model, steps=2)
    _train(run, config, out)
    (out / "curriculum" / "step_2.json").unlink()
    code, _, err = run("--plugin", str(PLUGIN), "run", str(config), "--out", str(out))
    assert code != 0
    assert "checkpoint-2 is step 2" in err and "step_2.json is missing" in err


def test_trl_refusing_an_argument_names_the_config(run: Any, model: Path, tmp_path: Path) -> None:
    config = _config(tmp_path / "run.toml", model, steps=1, no_such_argument=1)
    code, _, err = run("--plugin", str(PLUGIN), "run", str(config), "--out", str(tmp_path / "o"))
    assert code != 0 and "run.toml: TRL refused the GRPO arguments" in err
    assert "no_such_argument" in err


def test_a_step_with_failed_instances_is_filled_and_the_fillers_not_reported() -> None:
    from scaler.train.trl_grpo import FILLER, filled

    rows = [{"prompt": "a", "extra_info": {"seed": 1}}, {"prompt": "b", "extra_info": {"seed": 2}}]
    out = filled(rows, 3)
    assert [r["prompt"] for r in out] == ["a", "b", "a"]
    assert [r["extra_info"].get(FILLER, False) for r in out] == [False, False, True]
    assert rows[0]["extra_info"] == {"seed": 1}


def test_a_model_that_cannot_be_loaded_names_the_field(run: Any, tmp_path: Path) -> None:
    config = _config(tmp_path / "run.toml", tmp_path / "no-model-here", steps=1)
    code, _, err = run("--plugin", str(PLUGIN), "run", str(config), "--out", str(tmp_path / "o"))
    assert code != 0 and "trainer.model" in err and "cannot load the model" in err

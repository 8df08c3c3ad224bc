"""GRPO steps on verl 0.9.1, end to end on a CPU, with the curriculum: ``device = "cpu"``.

A random 2-layer Qwen2 (its tokenizer trained here on the curriculum's prompts; no hub) is
trained for two steps by ``scaler train``, in a subprocess as a user runs it: Ray, the
curriculum actor, verl's FSDP2 actor on gloo, rollouts from ``scaler.train.cpu``'s HF server,
our reward function, a checkpoint. Then a third step resumes from verl's checkpoint and the
curriculum state kept beside it. About two minutes on two cores.

Then a ``--plugin`` module that registers an output type and an environment using it trains
a step: verl's reward workers have the plugin's verifier (the driver's plugin set reaches them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scaler.catalog import available_envs
from scaler.curriculum.metrics import read_metrics
from scaler.curriculum.state import CurriculumState
from scaler.instances import InstanceFactory
from scaler.plugins import Plugins
from tests import tiny_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

pytestmark = [pytest.mark.verl, pytest.mark.slow]

PROMPT_LENGTH, RESPONSE_LENGTH = 1024, 32
#: Learning made visible in two steps: a random model scores every rollout alike (GRPO
#: advantages are then zero), so an entropy bonus gives the update a gradient to carry.
LEARNING = (
    "actor_rollout_ref.actor.optim.lr=1e-2",
    "actor_rollout_ref.actor.optim.lr_warmup_steps=0",
    "actor_rollout_ref.actor.entropy_coeff=0.01",
)


def _config(path: Path, model: Path, steps: int, envs: tuple[str, ...] = ()) -> Path:
    pool = f"[pool]\nenvs = {json.dumps(list(envs))}\n" if envs else ""
    path.write_text(
        f"""[run]
steps = {steps}
batch_size = 2

{pool}
[sandbox]
name = "process"

[trainer]
name = "verl"
device = "cpu"
model = "{model}"
rollouts = 2
gpus_per_node = 1
max_prompt_length = {PROMPT_LENGTH}
max_response_length = {RESPONSE_LENGTH}
max_tokens_per_gpu = 4096
checkpoint_dir = "{path.parent / "checkpoints"}"
save_freq = 2
logger = ["console", "file"]
""",
        encoding="utf-8",
    )
    return path


def _train(
    config: Path, metrics: Path, plugin: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(metrics), "OMP_NUM_THREADS": "1"}
    args = ["train", str(config), *(f"--override={item}" for item in LEARNING)]
    plugins = ["--plugin", plugin.name] if plugin else []
    return subprocess.run(
        [sys.executable, "-m", "scaler", "-v", *plugins, *args],
        cwd=plugin.parent if plugin else None,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _verl_steps(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("verl", reason="verl is not installed (the verl tox env has it)")
    from scaler.sandbox.process import ProcessSandbox

    plugins = Plugins.load(environ={})
    with ProcessSandbox(workers=2) as sandbox:
        factory = InstanceFactory(sandbox, plugins)
        texts = [
            message["content"]
            for env in available_envs(plugins)
            for instance in factory.sample(env, 0, 0, 2)
            for message in instance.messages
        ]
    return tiny_model.build_trained(
        tmp_path_factory.mktemp("model"), texts, max_length=PROMPT_LENGTH + RESPONSE_LENGTH
    )


def test_two_grpo_steps_then_a_resumed_third(model: Path, tmp_path: Path) -> None:
    metrics = tmp_path / "verl-metrics.jsonl"
    done = _train(_config(tmp_path / "cpu.toml", model, steps=2), metrics)
    assert done.returncode == 0, done.stderr[-4000:]

    logged = _verl_steps(metrics)
    assert [m["step"] for m in logged] == [1, 2]
    checkpoints = tmp_path / "checkpoints"
    states = checkpoints / "curriculum"
    curriculum = read_metrics(states / "metrics.jsonl")
    assert [m["step"] for m in curriculum] == [1, 2]
    for step, report in zip(logged, curriculum, strict=True):
        data = step["data"]
        # verl's mean reward is +1/-1 over the rollouts whose accuracies the curriculum got.
        assert data["critic/score/mean"] == pytest.approx(2 * report["mean_accuracy"] - 1)
        assert data["actor/grad_norm"] > 0, "the update had a gradient"
        # The rollout server sampled with the weights the actor had at that step (synced).
        assert data["training/rollout_probs_diff_max"] < 1e-3
        # verl's tracker got the curriculum's figures of the same step (scaler.train.tracking).
        assert data["curriculum/mean_accuracy"] == report["mean_accuracy"]
        assert data["curriculum/informative_share"] == report["informative_fraction"]
        assert data["curriculum/active_envs"] == len(report["active"])
    assert (checkpoints / "latest_checkpointed_iteration.txt").read_text().strip() == "2"
    assert CurriculumState.load(states / "step_2.json").step == 2
    assert (states / "report.md").exists() and (states / "difficulty.png").exists()
    assert "curriculum step" in done.stdout + done.stderr

    resumed = tmp_path / "verl-metrics-resumed.jsonl"
    done = _train(_config(tmp_path / "cpu.toml", model, steps=3), resumed)
    assert done.returncode == 0, done.stderr[-4000:]
    assert [m["step"] for m in _verl_steps(resumed)] == [3], "verl resumed after step 2"
    assert "resuming the curriculum" in done.stdout + done.stderr
    assert [m["step"] for m in read_metrics(states / "metrics.jsonl")] == [1, 2, 3]
    assert (checkpoints / "latest_checkpointed_iteration.txt").read_text().strip() == "3"


def test_a_plugin_output_type_trains_through_verl(model: Path, tmp_path: Path) -> None:
    """The run needs the plugin's verifier in verl's reward workers (without it, every reward
    fails with an unknown verifier): the driver's plugin set must reach them."""
    plugin = tmp_path / "yesno_env.py"
    shutil.copy(FIXTURES / "plugins" / "yesno_env.py", plugin)
    metrics = tmp_path / "verl-metrics.jsonl"
    config = _config(tmp_path / "cpu.toml", model, steps=1, envs=("sum-parity",))
    done = _train(config, metrics, plugin)
    assert done.returncode == 0, done.stderr[-4000:]
    (step,) = _verl_steps(metrics)
    (report,) = read_metrics(tmp_path / "checkpoints" / "curriculum" / "metrics.jsonl")
    assert set(report["envs"]) == {"sum-parity"}
    assert step["data"]["critic/score/mean"] == pytest.approx(2 * report["mean_accuracy"] - 1)
    # verl's reward worker, a Ray worker, registered the plugin's verifier to score with it.
    registered = [
        line.split() for line in plugin.with_suffix(".registered").read_text().splitlines()
    ]
    assert any(script == "default_worker.py" for _, script in registered), registered

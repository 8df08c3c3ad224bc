"""``trainer = "trl"``: its ``[trainer]`` table, the paper's preset as GRPOConfig arguments,
and how ``scaler run`` and ``scaler train`` hand it a config. Needs no torch or TRL."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from scaler.config import RunConfig
from scaler.errors import ConfigError, ScalerError
from scaler.plugins import Plugins
from scaler.run import build_trainer
from scaler.train import trl_launch
from scaler.train.trl_config import FROM_RUN_CONFIG, PAPER, TrlConfig, grpo_arguments

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _config(source: str | None = "my.toml", **options: Any) -> RunConfig:
    return RunConfig.from_dict(
        {"run": {"batch_size": 4, "steps": 10, "seed": 7}, "trainer": {"name": "trl", **options}},
        source,
    )


def test_the_paper_preset_comes_first_then_the_run_config_then_trainer_args() -> None:
    config = TrlConfig.from_run(
        _config(rollouts=4, micro_batch_size=8, args={"learning_rate": 1e-5, "beta": 0.04})
    )
    values = grpo_arguments(config, on_cpu=True)
    assert values["learning_rate"] == 1e-5 and values["beta"] == 0.04
    for key in ("warmup_steps", "epsilon", "epsilon_high", "loss_type", "temperature"):
        assert values[key] == PAPER[key]
    # One optimizer step per curriculum step: 4 prompts x 4 rollouts in micro-batches of 8.
    assert values["num_generations"] == 4
    assert values["per_device_train_batch_size"] == 8
    assert values["gradient_accumulation_steps"] == values["steps_per_generation"] == 2
    assert values["max_steps"] == 10 and values["seed"] == 7
    assert values["use_cpu"] is True and values["bf16"] is False
    assert values["output_dir"] == "runs/trl-my"


def test_paper_settings_are_the_methods() -> None:
    assert PAPER["beta"] == 0.0  # no KL
    assert (PAPER["learning_rate"], PAPER["warmup_steps"]) == (1e-6, 20)
    assert (PAPER["epsilon"], PAPER["epsilon_high"]) == (0.2, 0.2)
    assert PAPER["temperature"] == 1.0
    assert PAPER["loss_type"] == "dapo"  # token-mean over the batch


@pytest.mark.parametrize("key", sorted(FROM_RUN_CONFIG))
def test_trainer_args_cannot_set_what_the_curriculum_must_agree_on(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TrlConfig.from_run(_config(args={key: 1}))
    assert caught.value.field == f"trainer.args.{key}"
    assert FROM_RUN_CONFIG[key] in str(caught.value)
    assert "my.toml" in str(caught.value)


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"rollouts": 1}, "trainer.rollouts", ">= 2 rollouts"),
        ({"device": "tpu"}, "trainer.device", "auto, cuda, cpu"),
        ({"generation": "sglang"}, "trainer.generation", "transformers, vllm"),
        ({"save_steps": 0}, "trainer.save_steps", ">= 1"),
        ({"model": ""}, "trainer.model", "must not be empty"),
        ({"gpus_per_node": 1}, "trainer.gpus_per_node", "[trainer.args]"),
        ({"report_to": [""]}, "trainer.report_to", "non-empty"),
        ({"args": "lr=1"}, "trainer.args", "table of GRPOConfig arguments"),
    ],
)
def test_bad_options_name_the_file_and_field(
    options: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        TrlConfig.from_run(_config(**options))
    assert caught.value.field == field and words in str(caught.value)


def test_a_micro_batch_must_divide_the_steps_completions() -> None:
    config = TrlConfig.from_run(_config(rollouts=3, micro_batch_size=5))
    with pytest.raises(ConfigError) as caught:
        grpo_arguments(config, on_cpu=True)
    assert caught.value.field == "trainer.micro_batch_size" and "= 12" in str(caught.value)


def test_the_output_directory_is_the_same_for_every_rerun() -> None:
    assert TrlConfig.from_run(_config()).output_dir == Path("runs/trl-my")
    assert TrlConfig.from_run(_config(None)).output_dir == Path("runs/trl-default")
    assert TrlConfig.from_run(_config(checkpoint_dir="/ck")).output_dir == Path("/ck")


def test_trackers_default_to_tensorboard_where_installed() -> None:
    installed = importlib.util.find_spec("tensorboard") is not None
    assert TrlConfig.from_run(_config()).trackers() == (["tensorboard"] if installed else [])
    assert TrlConfig.from_run(_config(report_to="none")).trackers() == []
    assert TrlConfig.from_run(_config(report_to=["wandb"])).trackers() == ["wandb"]


def test_a_run_cannot_step_the_trl_trainer_and_says_what_launches_it() -> None:
    with pytest.raises(ScalerError, match=r"scaler train CONFIG\.toml"):
        build_trainer(_config().trainer, Plugins.load(), "my.toml")


def test_the_shipped_trl_config_composes() -> None:
    config = TrlConfig.from_run(RunConfig.load(CONFIGS / "trl-one-gpu.toml"))
    values = grpo_arguments(config, on_cpu=False)
    assert values["num_generations"] == 8
    assert values["per_device_train_batch_size"] * values["gradient_accumulation_steps"] == 128
    assert values["bf16"] is True


def test_scaler_train_dry_run_prints_the_grpo_arguments(run: Any) -> None:
    code, out, err = run(
        "train", str(CONFIGS / "trl-one-gpu.toml"), "--dry-run", "--json",
        "--override", "learning_rate=3e-6", "--override", "report_to=[\"wandb\"]",
    )  # fmt: skip
    assert code == 0, err
    values = json.loads(out)
    assert values["learning_rate"] == 3e-6 and values["report_to"] == ["wandb"]
    assert values["num_generations"] == 8 and values["max_steps"] == 100


def test_scaler_train_refuses_an_override_the_curriculum_sets(run: Any) -> None:
    code, _, err = run(
        "train", str(CONFIGS / "trl-one-gpu.toml"), "--dry-run", "--override", "max_steps=3"
    )
    assert code == 2 and "run.steps" in err


def test_scaler_train_refuses_verls_options_for_trl(run: Any) -> None:
    code, _, err = run("train", str(CONFIGS / "trl-one-gpu.toml"), "--ray-address", "auto")
    assert code == 2 and "--ray-address and --state are for trainer 'verl'" in err


def test_scaler_run_and_scaler_train_launch_the_same_trl_run(
    run: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[TrlConfig] = []
    monkeypatch.setattr(trl_launch, "train", lambda config, plugins: calls.append(config))
    config = CONFIGS / "trl-one-gpu.toml"
    assert run("run", str(config), "--steps", "3", "--out", str(tmp_path))[0] == 0
    assert run("train", str(config))[0] == 0
    by_run, by_train = calls
    assert by_run.steps == 3 and by_run.output_dir == tmp_path
    assert by_train.steps == 100 and by_train.output_dir == Path("runs/trl-trl-one-gpu")
    assert grpo_arguments(by_run, on_cpu=False)["learning_rate"] == 1e-6


@pytest.mark.skipif(
    all(importlib.util.find_spec(name) for name in trl_launch.NEEDS),
    reason="TRL and its dependencies are installed here",
)
def test_without_trl_a_run_says_what_to_install(tmp_path: Path) -> None:
    config = TrlConfig.from_run(_config(model=str(tmp_path)))
    with pytest.raises(ScalerError, match=r"pip install 'scaler\[trl\]'"):
        trl_launch.train(config, Plugins.load())

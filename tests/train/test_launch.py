"""``scaler train``: the paper's preset as verl overrides, the options, and verl's validation.

Tests marked ``verl`` compose the overrides with verl's own Hydra config and checks; the others
must pass without verl installed, so they never import it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import scaler.plugins
from scaler.config import Component, RunConfig
from scaler.errors import ConfigError, ScalerError
from scaler.plugins import Plugins
from scaler.run import build_trainer
from scaler.train.config import MODEL_PLACEHOLDER, TrainConfig, parse_options
from scaler.train.launch import load, plan
from scaler.train.preset import compose_overrides, format_value
from scaler.trainer import TRAINERS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
MODULE = "scaler.default_plugins.trainers"


@pytest.fixture(autouse=True)
def _train_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The train commands as a default plugin, whether or not DEFAULT_PLUGINS lists it yet."""
    if MODULE not in scaler.plugins.DEFAULT_PLUGINS:
        monkeypatch.setattr(
            scaler.plugins, "DEFAULT_PLUGINS", (*scaler.plugins.DEFAULT_PLUGINS, MODULE)
        )


def _overrides(config: TrainConfig) -> dict[str, str]:
    return dict(item.split("=", 1) for item in compose_overrides(config))


def _verl_config(**options: Any) -> RunConfig:
    return RunConfig.from_dict(
        {"run": {"batch_size": 16, "steps": 10}, "trainer": {"name": "verl", **options}},
        "my.toml",
    )


# -- without verl -------------------------------------------------------------------------


def test_paper_config_composes_the_paper_settings() -> None:
    values = _overrides(TrainConfig.from_run(RunConfig.load(CONFIGS / "paper-qwen3-4b.toml")))
    assert values["algorithm.adv_estimator"] == "grpo"
    assert values["algorithm.use_kl_in_reward"] == "false"
    assert values["actor_rollout_ref.actor.use_kl_loss"] == "false"
    assert values["actor_rollout_ref.actor.optim.lr"] == "1e-06"
    assert values["actor_rollout_ref.actor.optim.lr_warmup_steps"] == "20"
    assert values["actor_rollout_ref.actor.optim.weight_decay"] == "0.0"
    assert values["data.train_batch_size"] == "64"
    assert values["actor_rollout_ref.actor.ppo_mini_batch_size"] == "64"
    assert values["actor_rollout_ref.rollout.n"] == "8"
    assert values["data.max_prompt_length"] == "4096"
    assert values["data.max_response_length"] == "8192"
    assert values["trainer.n_gpus_per_node"] == "8"
    assert values["data.dataloader_num_workers"] == "0"
    assert values["data.custom_cls.path"] == "pkg://scaler.train.dataset"
    assert values["reward.custom_reward_function.path"] == "pkg://scaler.train.reward"
    assert values["actor_rollout_ref.model.path"] == "Qwen/Qwen3-4B-Base"
    assert values["trainer.experiment_name"] == "paper-qwen3-4b"
    assert values["data.train_max_samples"] == str(500 * 64)


def test_batch_rollouts_and_steps_come_from_the_run_config() -> None:
    values = _overrides(TrainConfig.from_run(_verl_config(rollouts=4)))
    assert values["data.train_batch_size"] == "16"
    assert values["actor_rollout_ref.rollout.n"] == "4"
    assert values["trainer.total_training_steps"] == "10"
    assert values["data.train_max_samples"] == "160"
    assert values["actor_rollout_ref.model.path"] == MODEL_PLACEHOLDER
    assert values["trainer.experiment_name"] == "my"
    assert values["data.val_files"] == "null"
    assert values["trainer.test_freq"] == "-1"


def test_val_files_turn_validation_on_and_resolve_beside_the_config() -> None:
    config = TrainConfig.from_run(_verl_config(val_files=["eval.parquet"], test_freq=5))
    values = _overrides(config)
    assert values["data.val_files"] == f"[{Path('eval.parquet')}]"
    assert values["trainer.val_before_train"] == "true"
    assert values["trainer.test_freq"] == "5"


def test_user_overrides_come_last() -> None:
    config = TrainConfig.from_run(_verl_config())
    planned = plan(config, ["actor_rollout_ref.actor.optim.lr=2e-6"])
    assert planned[-1] == "actor_rollout_ref.actor.optim.lr=2e-6"
    assert planned[:-1] == compose_overrides(config)


@pytest.mark.parametrize("override", ["data.train_batch_size=8", "+actor_rollout_ref.rollout.n=2"])
def test_overrides_that_would_split_curriculum_and_verl_are_refused(override: str) -> None:
    with pytest.raises(ScalerError, match="must agree"):
        plan(TrainConfig.from_run(_verl_config()), [override])


def test_an_override_without_a_value_is_refused() -> None:
    with pytest.raises(ScalerError, match="KEY=VALUE"):
        plan(TrainConfig.from_run(_verl_config()), ["trainer.nnodes"])


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"gpus": 8}, "trainer.gpus", "unknown option"),
        ({"rollouts": 0}, "trainer.rollouts", ">= 1"),
        ({"rollouts": True}, "trainer.rollouts", "integer"),
        ({"model": 3}, "trainer.model", "string"),
        ({"gpu_memory_utilization": 1.5}, "trainer.gpu_memory_utilization", r"\(0, 1\]"),
        ({"gpus_per_node": 4, "tensor_parallel": 3}, "trainer.tensor_parallel", "divide"),
        ({"logger": ["console", ""]}, "trainer.logger", "non-empty"),
        ({"device": "gpu"}, "trainer.device", "one of cuda, npu, cpu"),
    ],
)
def test_bad_options_name_the_file_and_field(
    options: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        TrainConfig.from_run(_verl_config(**options))
    assert caught.value.field == field
    assert caught.value.path == "my.toml"


def test_device_cpu_adds_the_cpu_settings_after_the_preset() -> None:
    from scaler.train.preset import CPU

    composed = compose_overrides(TrainConfig.from_run(_verl_config(device="cpu")))
    values = dict(item.split("=", 1) for item in composed)
    assert len(values) == len(composed), "each key once: no later preset value undoes CPU's"
    assert set(CPU) <= set(values)
    assert values["actor_rollout_ref.rollout.name"] == "hf"
    assert values["trainer.device"] == "cpu"
    assert values["+ray_kwargs.ray_init.num_gpus"] == "1"
    npu = _overrides(TrainConfig.from_run(_verl_config(device="npu")))
    assert npu["trainer.device"] == "npu" and npu["actor_rollout_ref.rollout.name"] == "vllm"


def test_a_config_of_another_trainer_is_refused() -> None:
    with pytest.raises(ConfigError, match="trainer = 'verl'") as caught:
        TrainConfig.from_run(RunConfig())
    assert caught.value.field == "trainer.name"


def test_no_config_means_the_default_with_verl_and_a_real_run_needs_a_model() -> None:
    config = TrainConfig.from_run(load(None))
    assert config.rollouts == 8
    with pytest.raises(ConfigError, match="model") as caught:
        config.require_model()
    assert caught.value.field == "trainer.model"


def test_options_parse_without_prefix_for_the_trainer_factory() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_options({"nodes": 2}, None, prefix="")
    assert caught.value.field == "nodes"


def test_a_run_cannot_step_the_verl_trainer_but_checks_its_options(plugins: Plugins) -> None:
    loaded = Plugins.load([MODULE]) if "verl" not in plugins.registry(TRAINERS) else plugins
    with pytest.raises(ScalerError, match=r"scaler run CONFIG\.toml"):
        build_trainer(Component("verl", {"rollouts": 8}), loaded, "x.toml")
    with pytest.raises(ConfigError) as caught:
        build_trainer(Component("verl", {"rollout": 8}), loaded, "x.toml")
    assert caught.value.field == "trainer.rollout"


def _launched(monkeypatch: pytest.MonkeyPatch) -> list[tuple[TrainConfig, dict[str, Any]]]:
    """Stand in for ``launch.train``, the one part that needs GPUs: record what it was given."""
    calls: list[tuple[TrainConfig, dict[str, Any]]] = []

    def record(config: TrainConfig, overrides: Any = (), *args: Any, **kwargs: Any) -> None:
        calls.append((config, {"overrides": tuple(overrides), "args": args, **kwargs}))

    monkeypatch.setattr("scaler.train.launch.train", record)
    return calls


def test_scaler_run_launches_a_verl_config_as_scaler_train_does(
    run: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _launched(monkeypatch)
    monkeypatch.chdir(tmp_path)
    config = CONFIGS / "one-gpu.toml"
    code, _, err = run("run", str(config))
    assert code == 0, err
    code, _, err = run("train", str(config))
    assert code == 0, err
    (by_run, _), (by_train, _) = calls
    assert by_run == by_train
    assert plan(by_run) == plan(by_train)
    assert not (tmp_path / "runs").exists()


def test_scaler_run_steps_and_out_become_verl_steps_and_checkpoint_dir(
    run: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _launched(monkeypatch)
    out = tmp_path / "ckpt"
    code, _, err = run("run", str(CONFIGS / "one-gpu.toml"), "--steps", "3", "--out", str(out))
    assert code == 0, err
    ((config, _),) = calls
    assert config.steps == 3
    values = _overrides(config)
    assert values["trainer.total_training_steps"] == "3"
    assert values["trainer.default_local_dir"] == str(out)
    assert config.model == "Qwen/Qwen3-0.6B-Base"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (1e-6, "1e-06"),
        (["console", "wandb"], "[console,wandb]"),
        ("pkg://scaler.train.reward", "pkg://scaler.train.reward"),
        ("/models/my model", "'/models/my model'"),
        ("null", "'null'"),
        ("it's", "'it\\'s'"),
    ],
)
def test_values_are_written_in_hydra_syntax(value: Any, text: str) -> None:
    assert format_value(value) == text


def test_loading_the_plugin_and_composing_imports_no_verl_hydra_or_ray() -> None:
    code = (
        "import sys\n"
        "from scaler.plugins import Plugins\n"
        f"Plugins.load([{MODULE!r}])\n"
        "from scaler.train.config import TrainConfig\nfrom scaler.train.launch import load, plan\n"
        "plan(TrainConfig.from_run(load(None)))\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('verl', 'hydra', 'ray', 'torch')]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_configs_parse(tmp_path: Path) -> None:
    for name in ("paper-qwen3-1.7b", "paper-qwen3-4b", "one-gpu"):
        config = TrainConfig.from_run(RunConfig.load(CONFIGS / f"{name}.toml"))
        assert config.model
        assert config.run.curriculum().curation_options["window"] == config.batch_size
    one = TrainConfig.from_run(RunConfig.load(CONFIGS / "one-gpu.toml"))
    assert one.gpus_per_node == 1
    assert one.max_response_length < 8192


def test_dry_run_without_verl_names_the_install_command(
    run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "verl" else find_spec(name, *a),
    )
    code, out, err = run("train", str(CONFIGS / "one-gpu.toml"), "--dry-run")
    assert code == 2
    assert "pip install 'scaler[verl]'" in err
    assert out == ""


# -- with verl ----------------------------------------------------------------------------


@pytest.mark.verl
def test_dry_run_validates_the_paper_config_with_verl(run: Any) -> None:
    pytest.importorskip("verl")
    code, out, err = run("train", str(CONFIGS / "paper-qwen3-4b.toml"), "--dry-run", "--json")
    assert code == 0, err
    config = json.loads(out)
    actor = config["actor_rollout_ref"]["actor"]
    rollout = config["actor_rollout_ref"]["rollout"]
    assert config["algorithm"]["adv_estimator"] == "grpo"
    assert config["algorithm"]["use_kl_in_reward"] is False
    assert actor["use_kl_loss"] is False
    assert rollout["n"] == 8
    assert rollout["name"] == "vllm"
    assert rollout["prompt_length"] == 4096
    assert rollout["response_length"] == 8192
    assert config["data"]["train_batch_size"] == 64
    assert actor["ppo_mini_batch_size"] == 64
    assert actor["optim"]["lr"] == pytest.approx(1e-6)
    assert actor["optim"]["weight_decay"] == 0
    assert actor["optim"]["clip_grad"] == 1.0
    assert actor["clip_ratio_low"] == actor["clip_ratio_high"] == 0.2
    assert actor["loss_agg_mode"] == "token-mean"
    assert config["data"]["custom_cls"] == {
        "path": "pkg://scaler.train.dataset",
        "name": "ScalerDataset",
    }
    assert config["reward"]["custom_reward_function"]["path"] == "pkg://scaler.train.reward"
    assert config["reward"]["custom_reward_function"]["name"] == "compute_score"
    assert config["trainer"]["n_gpus_per_node"] == 8


@pytest.mark.verl
def test_dry_run_prints_the_overrides_one_per_line(run: Any) -> None:
    pytest.importorskip("verl")
    code, out, err = run("train", str(CONFIGS / "one-gpu.toml"), "--dry-run")
    assert code == 0, err
    lines = out.splitlines()
    assert "algorithm.adv_estimator=grpo" in lines
    assert "trainer.n_gpus_per_node=1" in lines
    assert all("=" in line for line in lines)


@pytest.mark.verl
def test_a_bad_override_is_refused_with_hydras_message(run: Any) -> None:
    pytest.importorskip("verl")
    code, out, err = run(
        "train", str(CONFIGS / "one-gpu.toml"), "--dry-run", "--override", "data.no_such_key=1"
    )
    assert code == 2
    assert "Could not override 'data.no_such_key'" in err
    assert out == ""


@pytest.mark.verl
def test_an_inconsistent_config_is_refused_by_verl(run: Any) -> None:
    pytest.importorskip("verl")
    code, _, err = run(
        "train",
        str(CONFIGS / "one-gpu.toml"),
        "--dry-run",
        "--override",
        "actor_rollout_ref.actor.loss_agg_mode=no-such-mode",
    )
    assert code == 2
    assert "verl refused the config" in err
    assert "no-such-mode" in err


@pytest.mark.verl
def test_a_bad_trainer_option_names_the_field(run: Any, tmp_path: Path) -> None:
    pytest.importorskip("verl")
    text = (CONFIGS / "one-gpu.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("gpus_per_node = 1", "gpus_per_node = 0"), encoding="utf-8")
    code, _, err = run("train", str(bad), "--dry-run")
    assert code == 2
    assert "trainer.gpus_per_node" in err
    assert str(bad) in err


@pytest.mark.verl
def test_a_cpu_config_passes_verls_validation(tmp_path: Path) -> None:
    pytest.importorskip("verl")
    from scaler.train.preset import validate

    composed = validate(plan(TrainConfig.from_run(_verl_config(device="cpu", gpus_per_node=1))))
    assert composed.actor_rollout_ref.rollout.name == "hf"
    assert composed.ray_kwargs.ray_init.num_gpus == 1
    assert composed.transfer_queue.backend.SimpleStorage.num_data_storage_units == 1


@pytest.mark.verl
def test_dry_run_without_a_model_says_a_placeholder_stands_in(run: Any, tmp_path: Path) -> None:
    pytest.importorskip("verl")
    text = (CONFIGS / "one-gpu.toml").read_text(encoding="utf-8")
    config = tmp_path / "nomodel.toml"
    config.write_text(text.replace('model = "Qwen/Qwen3-0.6B-Base"', ""), encoding="utf-8")
    code, out, err = run("train", str(config), "--dry-run")
    assert code == 0, err
    assert f"actor_rollout_ref.model.path={MODEL_PLACEHOLDER}" in out.splitlines()
    assert "placeholder" in err

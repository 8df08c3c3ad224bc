"""The curriculum through verl's own pieces: its dataset API, collate, reward worker and config.

No model and no GPU: rollouts are written responses (boxing the right answer or not), scored by
verl's RewardLoopWorker running as a Ray actor, as in training, with ``scaler.train.reward``
loaded by verl's custom reward function loading.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray", reason="the verl bridge needs ray (pip install ray)")
pytest.importorskip("verl", reason="the verl bridge needs verl (pip install 'verl[verl-core]')")

import numpy as np
import ray
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig
from verl import DataProto
from verl.experimental.reward_loop.reward_loop import RewardLoopWorker
from verl.trainer.ppo.utils import create_rl_dataset
from verl.utils.dataset.rl_dataset import RLHFDataset, collate_fn

from scaler.config import Component, RunConfig
from scaler.errors import ScalerError
from scaler.registry import PluginSpec
from scaler.train.bridge import start_actor
from scaler.train.dataset import CurriculumRows, ScalerDataset
from scaler.train.launch import reward_failure
from scaler.train.service import STATE_FILE

pytestmark = [pytest.mark.verl, pytest.mark.ray]

BATCH = 6
ROLLOUTS = 4
ENVS = ["lis-length", "max-subarray-sum", "inversion-count"]
RUN = RunConfig(
    batch_size=BATCH,
    pool_envs=tuple(ENVS),
    sandbox=Component("process"),
    curation=Component("scaler-window", {"window": 3}),
).to_dict()
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 1024 * 1024,
        namespace="scaler-test",
        log_to_driver=False,
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny byte-level BPE tokenizer with a chat template, saved as a model folder would be."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        ["The answer is \\boxed{42}.", "Find the length of the longest subsequence."],
        vocab_size=300,
        special_tokens=["<pad>", "<eos>"],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, pad_token="<pad>", eos_token="<eos>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    path = tmp_path_factory.mktemp("tokenizer")
    tokenizer.save_pretrained(path)
    return path


def _verl_config(tokenizer_dir: Path, val_files: str, **data: Any) -> DictConfig:
    """verl's ppo_trainer config composed with Hydra, as ``main_ppo`` composes it."""
    import verl

    overrides = {
        "data.train_files": "curriculum",
        "data.val_files": val_files,
        "data.train_batch_size": BATCH,
        "data.train_max_samples": 3 * BATCH,
        "data.dataloader_num_workers": 0,
        "data.custom_cls.path": "pkg://scaler.train.dataset",
        "data.custom_cls.name": "ScalerDataset",
        "actor_rollout_ref.model.path": str(tokenizer_dir),
        "actor_rollout_ref.rollout.n": ROLLOUTS,
        "reward.custom_reward_function.path": "pkg://scaler.train.reward",
        "reward.custom_reward_function.name": "compute_score",
        **{f"data.{key}": value for key, value in data.items()},
    }
    config_dir = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        return compose("ppo_trainer", overrides=[f"{k}={v}" for k, v in overrides.items()])


def _dataset(config: DictConfig) -> Any:
    """The training dataset, built as verl's trainer builds it."""
    from verl.utils import hf_tokenizer

    tokenizer = hf_tokenizer(config.actor_rollout_ref.model.path)
    return create_rl_dataset(
        config.data.train_files,
        config.data,
        tokenizer,
        None,
        max_samples=config.data.get("train_max_samples", -1),
    )


def _rollouts(batch: dict[str, Any], tokenizer: Any, right: set[str]) -> DataProto:
    """The batch as verl has it after generation: ROLLOUTS responses per prompt, right ones
    boxing the answer for envs in ``right`` and the others a wrong one."""
    data = DataProto.from_single_dict(batch).repeat(ROLLOUTS, interleave=True)
    texts = []
    for info, model in zip(
        data.non_tensor_batch["extra_info"], data.non_tensor_batch["reward_model"], strict=True
    ):
        answer = model["ground_truth"] if info["env_id"] in right else "no answer"
        texts.append(f"So the answer is \\boxed{{{answer}}}")
    ids = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in texts]
    width = max(map(len, ids)) + 2
    responses = torch.full((len(ids), width), tokenizer.pad_token_id)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, row in enumerate(ids):
        responses[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    prompts = torch.zeros((len(ids), 1), dtype=torch.long)
    data.batch["prompts"] = prompts
    data.batch["responses"] = responses
    data.batch["attention_mask"] = torch.cat([torch.ones_like(prompts), mask], dim=1)
    return data


def _score(worker: Any, data: DataProto) -> list[dict[str, Any]]:
    return ray.get(worker.compute_score_batch.remote(data))


def _step(dataset: Any, worker: Any, right: set[str]) -> tuple[dict[str, Any], list[dict]]:
    batch = collate_fn([dataset[i] for i in range(BATCH)])
    return batch, _score(worker, _rollouts(batch, dataset.tokenizer, right))


def _plan(batch: dict[str, Any]) -> list[tuple[int, str, int, int]]:
    return [
        (info["step"], info["env_id"], info["level"], info["seed"]) for info in batch["extra_info"]
    ]


def _closes(actor: Any, step: int, timeout_s: float = 30.0) -> None:
    """The reward reports are fire-and-forget: the step closes once the last one lands."""
    deadline = time.monotonic() + timeout_s
    while ray.get(actor.step.remote()) < step:
        assert time.monotonic() < deadline, f"step {step} did not close"
        time.sleep(0.05)
    assert ray.get(actor.step.remote()) == step


def test_curriculum_through_verl(cluster: None, tokenizer_dir: Path, tmp_path: Path) -> None:
    config = _verl_config(tokenizer_dir, val_files=str(tmp_path / "val.parquet"))
    actor = start_actor(
        RUN, ROLLOUTS, PluginSpec(), grace_s=10.0, state_dir=tmp_path / "curriculum"
    )
    worker = ray.remote(RewardLoopWorker).options(num_cpus=0).remote(config)
    dataset = _dataset(config)
    assert type(dataset) is ScalerDataset
    assert len(dataset) == 3 * BATCH

    batch, scores = _step(dataset, worker, right=set())
    first = batch["extra_info"][0]["env_id"]
    assert {step for step, *_ in _plan(batch)} == {1}
    assert {level for _, _, level, _ in _plan(batch)} == {0}
    # the rest: every key RLHFDataset's items have, collated as verl collates them
    assert batch["dummy_tensor"].shape == (BATCH, 1)
    assert isinstance(batch["raw_prompt"], np.ndarray) and batch["raw_prompt"].dtype == object
    assert list(batch["raw_prompt"][0]) == list(batch["prompt"][0])
    assert {d.split("/")[0] for d in batch["data_source"]} == {"scaler"}
    assert [s["acc"] for s in (r["reward_extra_info"] for r in scores)] == [0] * BATCH * ROLLOUTS
    _closes(actor, 1)
    assert ray.get(actor.step_reports.remote())[0]["mean_accuracy"] == 0.0

    # step 2: all rollouts right for one env, wrong for the others
    batch, scores = _step(dataset, worker, right={first})
    plan = _plan(batch)
    assert {step for step, *_ in plan} == {2}
    assert sum(r["reward_score"] for r in scores) == pytest.approx(
        sum(1 if env == first else -1 for _, env, _, _ in plan) * ROLLOUTS
    )

    # step 2 closes with its last rollout: the env that was always right moves up a level
    _closes(actor, 2)
    third = collate_fn([dataset[i] for i in range(BATCH)])
    report = ray.get(actor.step_reports.remote())[1]
    assert report["step"] == 2
    levels = {env: level for _, env, level, _ in _plan(third)}
    if first in levels:
        assert levels[first] == 1
    assert all(level == 0 for env, level in levels.items() if env != first)
    report_md, metrics, *plots = map(Path, ray.get(actor.finish.remote("verl on CPU")))
    assert report_md.name == "report.md" and len(metrics.read_text().splitlines()) == 2
    assert plots and all(p.suffix == ".png" for p in plots)
    saved = ray.get(actor.save.remote(str(tmp_path / "global_step_2")))
    assert Path(saved) == tmp_path / "global_step_2" / STATE_FILE
    _score(worker, _rollouts(third, dataset.tokenizer, right=set(ENVS)))
    expected = _plan(collate_fn([dataset[i] for i in range(BATCH)]))
    ray.kill(actor)
    ray.kill(worker)

    # a resumed run: a new actor from the checkpoint, new reward workers (they cache the actor's
    # handle), a new dataset; it replays step 3 and plans the same step 4
    restored = start_actor(RUN, ROLLOUTS, PluginSpec(), state_file=saved, grace_s=10.0)
    worker = ray.remote(RewardLoopWorker).options(num_cpus=0).remote(config)
    dataset = _dataset(config)
    again = collate_fn([dataset[i] for i in range(BATCH)])
    assert _plan(again) == _plan(third)
    _score(worker, _rollouts(again, dataset.tokenizer, right=set(ENVS)))
    assert _plan(collate_fn([dataset[i] for i in range(BATCH)])) == expected
    ray.kill(restored)
    ray.kill(worker)


def test_a_plugin_verifier_scores_in_verl_reward_workers(
    cluster: None, tokenizer_dir: Path, tmp_path: Path
) -> None:
    """A ``--plugin`` output type: the reward worker loads the plugin set it is handed through
    its environment (as ``scaler train`` hands it to every Ray worker) and scores with it; a
    verifier that fails is one line naming the env, which the curriculum actor keeps."""
    plugin = tmp_path / "yesno_env.py"
    shutil.copy(Path(__file__).parent.parent / "fixtures" / "plugins" / "yesno_env.py", plugin)
    spec = PluginSpec.from_environ([str(plugin)], environ={})
    run = RunConfig(
        batch_size=BATCH,
        pool_envs=("sum-parity",),
        sandbox=Component("process"),
        curation=Component("all"),
    ).to_dict()
    config = _verl_config(tokenizer_dir, val_files=str(tmp_path / "val.parquet"))
    actor = start_actor(run, ROLLOUTS, plugins=spec, grace_s=10.0)
    worker = (
        ray.remote(RewardLoopWorker)
        .options(num_cpus=0, runtime_env={"env_vars": spec.to_environ()})
        .remote(config)
    )
    dataset = _dataset(config)
    _, scores = _step(dataset, worker, right={"sum-parity"})
    assert [r["reward_score"] for r in scores] == [1.0] * BATCH * ROLLOUTS
    calls = [line.split() for line in plugin.with_suffix(".calls").read_text().splitlines()]
    assert len(calls) == BATCH * ROLLOUTS
    assert {script for _, script in calls} == {"default_worker.py"}, "scored in a Ray worker"
    _closes(actor, 1)

    plugin.with_suffix(".fail").touch()
    with pytest.raises(Exception, match="this verifier was told to fail"):
        _step(dataset, worker, right={"sum-parity"})
    cause = reward_failure(actor)
    assert cause is not None and "\n" not in cause
    assert cause.startswith(
        "cannot score a rollout of environment 'sum-parity' (output type 'yesno'): verifier"
    )
    ray.kill(actor)
    ray.kill(worker)


def test_items_are_what_rlhf_dataset_makes(tokenizer_dir: Path, tmp_path: Path) -> None:
    """The same row through RLHFDataset (from a file) and ScalerDataset (pulled) is the same."""
    row = {
        "data_source": "scaler/lis-length",
        "prompt": [{"role": "user", "content": "What is 6 x 7?"}],
        "ability": "reasoning",
        "reward_model": {"style": "rule", "ground_truth": "42"},
        "extra_info": {"env_id": "lis-length", "level": 0, "seed": 3, "step": 1},
    }
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(row) + "\n")
    config = _verl_config(tokenizer_dir, val_files=str(path))
    from verl.utils import hf_tokenizer

    tokenizer = hf_tokenizer(config.actor_rollout_ref.model.path)
    expected = RLHFDataset(str(path), tokenizer, config.data)[0]
    dataset = ScalerDataset("curriculum", tokenizer, config.data)

    class OneRow(CurriculumRows):
        def __getitem__(self, index: int) -> dict[str, Any]:
            return json.loads(json.dumps(row))

    dataset.dataframe = OneRow(1)
    item = dataset[0]
    assert item.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(item[key], value)
        else:
            assert item[key] == value, key


def test_validation_reads_its_files(tokenizer_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "val.jsonl"
    rows = [
        {
            "data_source": "scaler/lis-length",
            "prompt": [{"role": "user", "content": f"question {i}"}],
            "reward_model": {"style": "rule", "ground_truth": str(i)},
            "extra_info": {"env_id": "lis-length", "level": 0, "seed": i},
        }
        for i in range(3)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = _verl_config(tokenizer_dir, val_files=str(path))
    from verl.utils import hf_tokenizer

    tokenizer = hf_tokenizer(config.actor_rollout_ref.model.path)
    val = create_rl_dataset(config.data.val_files, config.data, tokenizer, None, is_train=False)
    assert type(val) is ScalerDataset and not val.from_curriculum
    assert len(val) == 3
    assert val[2]["reward_model"]["ground_truth"] == "2"


def test_misconfigurations_fail_clearly(tokenizer_dir: Path, tmp_path: Path) -> None:
    from verl.utils import hf_tokenizer

    tokenizer = hf_tokenizer(str(tokenizer_dir))
    config = _verl_config(tokenizer_dir, val_files="val.parquet", dataloader_num_workers=2)
    with pytest.raises(ScalerError, match=r"dataloader_num_workers must be 0"):
        ScalerDataset("curriculum", tokenizer, config.data)
    config = _verl_config(tokenizer_dir, val_files="curriculum")
    with pytest.raises(ScalerError, match=r"must differ from data\.train_files"):
        ScalerDataset("curriculum", tokenizer, config.data)

"""The paper's GRPO settings (method.md section 5) as verl 0.9 Hydra overrides.

verl is configured by Hydra overrides on its ``ppo_trainer`` config; writing the preset in
that language (rather than a dict scaler interprets) means ``--dry-run`` shows exactly what
verl will get, and a user's ``--override`` after the preset changes any of it. ``validate``
composes the overrides with verl's own config files and runs verl's own checks, the ones
``verl.trainer.main_ppo`` runs before it starts anything, so a bad key or value is refused
without a GPU.

Keys were found by composing verl 0.9.1's ``ppo_trainer``. Where verl offers two spellings the
current one is used: ``optim.clip_grad`` (``actor.grad_clip`` is the old one) and
``optim.lr_scheduler_type`` (``warmup_style`` is deprecated). Micro-batches use verl's dynamic
batching (``use_dynamic_bsz``) with a token budget per GPU, since with neither a micro batch
size nor dynamic batching verl refuses the config.

Nothing here imports verl or Hydra until ``validate`` is called.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from scaler.errors import ScalerError

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from scaler.train.config import TrainConfig

DATASET_PATH = "pkg://scaler.train.dataset"
DATASET_CLASS = "ScalerDataset"
REWARD_PATH = "pkg://scaler.train.reward"
REWARD_FUNCTION = "compute_score"
#: ``data.train_files``: verl requires one, the curriculum dataset never reads it.
TRAIN_FILES_PLACEHOLDER = "scaler-curriculum"
INSTALL_HINT = "pip install 'scaler[verl]'"

#: The paper's fixed settings: GRPO without KL, lr 1e-6 constant after 20 warm-up steps, no
#: weight decay, grad clip 1.0, clip ratio 0.2/0.2, token-mean loss, no entropy bonus, vLLM
#: rollouts at temperature 1.0 / top_p 1.0; and the curriculum's data and reward hooks.
PAPER: dict[str, Any] = {
    "algorithm.adv_estimator": "grpo",
    "algorithm.use_kl_in_reward": False,
    "actor_rollout_ref.actor.use_kl_loss": False,
    "actor_rollout_ref.actor.optim.lr": 1e-6,
    "actor_rollout_ref.actor.optim.lr_warmup_steps": 20,
    "actor_rollout_ref.actor.optim.lr_scheduler_type": "constant",
    "actor_rollout_ref.actor.optim.weight_decay": 0.0,
    "actor_rollout_ref.actor.optim.clip_grad": 1.0,
    "actor_rollout_ref.actor.clip_ratio_low": 0.2,
    "actor_rollout_ref.actor.clip_ratio_high": 0.2,
    "actor_rollout_ref.actor.loss_agg_mode": "token-mean",
    "actor_rollout_ref.actor.entropy_coeff": 0.0,
    "actor_rollout_ref.actor.use_dynamic_bsz": True,
    "actor_rollout_ref.rollout.name": "vllm",
    "actor_rollout_ref.rollout.temperature": 1.0,
    "actor_rollout_ref.rollout.top_p": 1.0,
    # Rows are pulled one at a time from the curriculum actor in the main process: a worker
    # would prefetch rows planned before the last step was scored. The index is ignored, so
    # a shuffling sampler would only cost a permutation.
    "data.dataloader_num_workers": 0,
    "data.shuffle": False,
    "data.custom_cls.path": DATASET_PATH,
    "data.custom_cls.name": DATASET_CLASS,
    "data.train_files": TRAIN_FILES_PLACEHOLDER,
    "reward.custom_reward_function.path": REWARD_PATH,
    "reward.custom_reward_function.name": REWARD_FUNCTION,
    # One pass over the dataset is the whole run: its length is steps x batch size.
    "trainer.total_epochs": 1,
}


#: The module ``[trainer] device = "cpu"`` loads into every verl process.
CPU_MODULE = "scaler.train.cpu"
#: Environment of every process of a CPU run (the driver's, and Ray's workers').
CPU_ENVIRONMENT: dict[str, str] = {
    "VERL_USE_EXTERNAL_MODULES": CPU_MODULE,
    "VERL_PLATFORM": "cpu",
    # verl registers its FSDP engine for cuda and npu only: the name of the slot, not a device.
    "VERL_ENGINE_DEVICE": "cuda",
    "TOKENIZERS_PARALLELISM": "false",
}
#: What verl 0.9.1 needs on a CPU, on top of the preset (found by running it; docs/training.md).
CPU: dict[str, Any] = {
    "trainer.device": "cpu",
    # TransferQueue and the worker bundles need more logical CPUs than a small machine has,
    # and verl's worker pool asks for a GPU per process: Ray is told of 8 CPUs and 1 GPU.
    "ray_kwargs.ray_init.num_cpus": 8,
    "+ray_kwargs.ray_init.num_gpus": 1,
    "+ray_kwargs.ray_init.include_dashboard": False,
    # TransferQueue's default 8 storage actors (1 CPU each) would never be placed: a silent hang.
    "transfer_queue.backend.SimpleStorage.num_data_storage_units": 1,
    "actor_rollout_ref.rollout.name": "hf",
    "actor_rollout_ref.rollout.agent.num_workers": 1,
    "reward.num_workers": 1,
    # FSDP1 pins device 0; FlashAttention, padding removal and torch.compile need CUDA.
    "actor_rollout_ref.actor.strategy": "fsdp2",
    "actor_rollout_ref.ref.strategy": "fsdp2",
    "+actor_rollout_ref.model.override_config.attn_implementation": "sdpa",
    "actor_rollout_ref.model.use_remove_padding": False,
    "actor_rollout_ref.actor.use_torch_compile": False,
}


def compose_overrides(train: TrainConfig) -> list[str]:
    """The preset and the run config's numbers as ``key=value`` Hydra overrides."""
    values = dict(PAPER)
    values.update(
        {
            # One optimizer step per RL step: the mini-batch is the whole batch.
            "data.train_batch_size": train.batch_size,
            "actor_rollout_ref.actor.ppo_mini_batch_size": train.batch_size,
            "actor_rollout_ref.rollout.n": train.rollouts,
            "data.max_prompt_length": train.max_prompt_length,
            "data.max_response_length": train.max_response_length,
            "actor_rollout_ref.actor.ppo_max_token_len_per_gpu": train.tokens_per_gpu,
            "data.train_max_samples": train.steps * train.batch_size,
            "trainer.total_training_steps": train.steps,
            "actor_rollout_ref.model.path": train.model_path,
            "actor_rollout_ref.rollout.tensor_model_parallel_size": train.tensor_parallel,
            "trainer.n_gpus_per_node": train.gpus_per_node,
            "trainer.nnodes": train.nnodes,
            "trainer.project_name": train.project,
            "trainer.experiment_name": train.experiment,
            "trainer.logger": list(train.logger),
            "trainer.save_freq": train.save_freq,
            # Validation reads held-out files; without them there is none.
            "data.val_files": list(train.val_files) or None,
            "trainer.val_before_train": bool(train.val_files),
            "trainer.test_freq": train.test_freq if train.val_files else -1,
        }
    )
    if train.device == "cpu":
        values.update(CPU)
    elif train.device != "cuda":
        values["trainer.device"] = train.device
    if train.gpu_memory_utilization is not None:
        values["actor_rollout_ref.rollout.gpu_memory_utilization"] = train.gpu_memory_utilization
    if train.checkpoint_dir is not None:
        values["trainer.default_local_dir"] = train.checkpoint_dir
    return [f"{key}={format_value(value)}" for key, value in values.items()]


_BARE = re.compile(r"[A-Za-z0-9_./:+~@-]+")


def format_value(value: Any) -> str:
    """A Python value in Hydra's override grammar; strings quoted unless plainly safe."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(format_value(item) for item in value) + "]"
    text = str(value)
    if _BARE.fullmatch(text) and text.lower() not in ("null", "true", "false"):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def config_dir() -> Path:
    """verl's Hydra config directory, found without importing verl."""
    spec = importlib.util.find_spec("verl")
    if spec is None or not spec.submodule_search_locations:
        raise ScalerError(f"verl is not installed; training needs it: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "trainer" / "config"


def validate(overrides: Sequence[str]) -> DictConfig:
    """Compose verl's ``ppo_trainer`` with ``overrides`` and run verl's own checks.

    Returns the composed config, as verl's ``main_ppo`` would get it. Hydra's message on a bad
    key or value, or verl's on an inconsistent config, becomes a ScalerError. verl prints as
    it validates; that output is kept off stdout (the library never prints).
    """
    directory = config_dir()
    try:
        from hydra import compose, initialize_config_dir
        from hydra.core.global_hydra import GlobalHydra
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException
        from verl.trainer.ppo.utils import need_critic, need_reference_policy
        from verl.utils.config import validate_config
    except ImportError as exc:
        raise ScalerError(f"verl cannot be imported ({exc}): {INSTALL_HINT}") from exc
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(directory), version_base=None):
            config = compose(config_name="ppo_trainer", overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ScalerError(f"verl's config refused an override: {exc}") from exc
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            validate_config(
                config=config,
                use_reference_policy=need_reference_policy(config),
                use_critic=need_critic(config),
            )
    except (AssertionError, ValueError, TypeError, HydraException, OmegaConfBaseException) as exc:
        raise ScalerError(f"verl refused the config: {exc}") from exc
    return config


def to_dict(config: DictConfig) -> dict[str, Any]:
    """The composed config as plain JSON-able data, interpolations resolved."""
    from omegaconf import OmegaConf

    return cast(dict[str, Any], OmegaConf.to_container(config, resolve=True))

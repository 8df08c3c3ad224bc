"""verl 0.9.1 on a CPU-only machine: a CPU platform and an HF ``generate`` rollout.

``[trainer] device = "cpu"`` makes ``scaler train`` load this module in every verl process
through ``VERL_USE_EXTERNAL_MODULES`` (verl's ``__init__`` imports the listed modules after its
own core, in the driver and in every Ray worker), with ``VERL_PLATFORM=cpu`` (selects the
platform below) and ``VERL_ENGINE_DEVICE=cuda`` (verl registers its FSDP engine for cuda/npu
only; here "cuda" just names the registry slot, every tensor stays on the CPU). The verl
settings such a run needs are ``scaler.train.preset.CPU``. It imports torch and verl at the top:
nothing else in scaler imports it.

What it adds, none of which stock verl 0.9.1 has:

* ``PlatformCPU``: verl takes the device, the process-group backend and the Ray resource from
  its platform (nvidia/npu/rocm), not from ``trainer.device``. This one says "cpu", "gloo" and
  keeps the "GPU" Ray resource (Ray is told of one fake GPU, since verl's worker pool asks for
  one GPU per process).
* a dedupe of the backend string given to ``torch.distributed.init_process_group``: verl
  builds ``"cpu:gloo,{device}:{backend}"``, i.e. ``"cpu:gloo,cpu:gloo"`` here, which torch
  refuses.
* rollout ``hf``: verl registers only vllm/sglang/trtllm, each a separate inference server
  (a replica) that the agent loop calls ``generate`` on and the actor worker pushes its
  weights to. ``HFReplica`` starts one ``HFRolloutServer`` Ray actor per replica holding a copy
  of the model and generating with transformers' ``generate``; ``HFServerAdapter`` (the rollout
  object verl builds inside the actor worker) pushes the trained weights to it on every weight
  sync. For tiny models and smoke tests of the whole loop, not for throughput: one request at
  a time, one replica of world size 1, full weights (no LoRA).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Iterable
from types import ModuleType
from typing import Any

import torch
import torch.distributed as dist
from verl.plugin.platform.platform_base import PlatformBase
from verl.plugin.platform.platform_manager import PlatformRegistry

logger = logging.getLogger(__name__)

PLATFORM = "cpu"
ROLLOUT = "hf"
SERVER_PREFIX = "hf_cpu_server_"

# --------------------------------------------------------------------------------------------
# The CPU platform
# --------------------------------------------------------------------------------------------


class _CpuDeviceModule(ModuleType):
    """What verl gets for ``torch.cuda``: device and memory calls that answer for the CPU.

    verl calls memory statistics, RNG state and cache flushes on its device module; on the CPU
    these are no-ops or their CPU equivalents. Anything else falls through to ``torch.cpu`` or
    becomes a no-op returning 0.
    """

    def __init__(self) -> None:
        super().__init__("scaler_cpu_device")

    def __getattr__(self, name: str) -> Any:
        if hasattr(torch.cpu, name):
            return getattr(torch.cpu, name)

        def _noop(*args: Any, **kwargs: Any) -> int:
            return 0

        return _noop

    def is_available(self) -> bool:
        return True

    def device_count(self) -> int:
        return 1

    def current_device(self) -> int:
        return 0

    def get_device_name(self, *args: Any, **kwargs: Any) -> str:
        # verl's flops counter matches this against its table ("CPU" is in it).
        return "CPU"

    def mem_get_info(self, *args: Any, **kwargs: Any) -> tuple[int, int]:
        return (16 << 30, 24 << 30)

    def memory_allocated(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def memory_reserved(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def max_memory_allocated(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def max_memory_reserved(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def get_rng_state(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        return torch.get_rng_state()

    def set_rng_state(self, state: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        torch.set_rng_state(state)

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)


_DEVICE_MODULE = _CpuDeviceModule()


@PlatformRegistry.register(platform=PLATFORM)
class PlatformCPU(PlatformBase):
    """verl's accelerator abstraction answered for the CPU (selected with VERL_PLATFORM=cpu)."""

    @property
    def device_name(self) -> str:
        return "cpu"

    @property
    def vendor_name(self) -> str:
        return "cpu"

    @property
    def device_module(self) -> ModuleType:
        return _DEVICE_MODULE

    def is_available(self) -> bool:
        return True

    def current_device(self) -> str:  # type: ignore[override]
        # verl passes this to ``.to(device=...)`` and FSDP's ``device_id``: an int means cuda:N.
        return "cpu"

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        pass

    def synchronize(self, device_index: int | None = None) -> None:
        pass

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        pass

    def empty_cache(self) -> None:
        pass

    def get_device_capability(self, device_index: int = 0) -> tuple[int | None, int | None]:
        return (None, None)

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        return "CUDA_VISIBLE_DEVICES"

    def nvtx_range(self, msg: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def profiler_start(self) -> None:
        pass

    def profiler_stop(self) -> None:
        pass

    def ray_resource_name(self) -> str:
        # verl's worker pool asks Ray for a "GPU" per process; Ray is given fake ones.
        return "GPU"

    def ray_noset_envvars(self) -> list[str]:
        return ["RAY_EXPERIMENTAL_NOSET_CUDA_VISIBLE_DEVICES"]

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> None:
        return None


_init_process_group = dist.init_process_group


def _init_process_group_dedup(*args: Any, backend: str | None = None, **kwargs: Any) -> Any:
    """``init_process_group`` with a repeated ``device:backend`` pair dropped.

    verl asks for ``"cpu:gloo,{device}:{backend}"``; with device "cpu" and backend "gloo"
    that is ``"cpu:gloo,cpu:gloo"``, which torch refuses.
    """
    if isinstance(backend, str) and "," in backend:
        backend = ",".join(dict.fromkeys(backend.split(",")))
    return _init_process_group(*args, backend=backend, **kwargs)


def _install_process_group_patch() -> None:
    if os.environ.get("VERL_PLATFORM", "").lower() == PLATFORM:
        dist.init_process_group = _init_process_group_dedup


# --------------------------------------------------------------------------------------------
# The HF rollout: server, replica and the adapter inside the actor worker
# --------------------------------------------------------------------------------------------


def server_name(replica_rank: int, suffix: str = "") -> str:
    """The Ray actor name of a replica's server; the worker-side adapter looks it up by it."""
    return f"{SERVER_PREFIX}{replica_rank}{suffix}"


def _model_path(model_config: Any) -> str:
    for key in ("local_path", "path"):
        value = getattr(model_config, key, None)
        if value is None and hasattr(model_config, "get"):
            value = model_config.get(key)
        if value:
            return str(value)
    raise ValueError("the model config names no model path")


class HFRolloutServer:
    """One replica's inference server: a ``transformers`` model copy that generates on the CPU.

    Speaks the token-in/token-out protocol of verl's servers: the agent loop (through
    ``LLMServerClient``) calls ``generate(prompt_ids, sampling_params, request_id, ...)`` and
    gets a ``TokenOutput``; the replica calls ``wake_up``/``sleep`` and friends (no-ops here,
    there is no KV cache to free); ``HFServerAdapter`` calls ``load_weights`` with the trained
    weights on each weight sync. Requests are served one at a time, off the event loop.
    """

    def __init__(self, config: Any, model_config: Any, replica_rank: int = 0) -> None:
        from transformers import AutoModelForCausalLM
        from verl.utils.config import omega_conf_to_dataclass

        torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1"))))
        self.config = omega_conf_to_dataclass(config)
        self.replica_rank = replica_rank
        path = _model_path(model_config)
        self.model = AutoModelForCausalLM.from_pretrained(
            path, dtype=torch.float32, attn_implementation="sdpa"
        )
        self.model.eval()
        eos = self.model.generation_config.eos_token_id
        self.eos_ids: list[int] = (
            [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))
        )
        self.pad_id = self.model.generation_config.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.eos_ids[0] if self.eos_ids else 0
        self.global_steps: int | None = None
        self.weight_version = 0
        self._lock = asyncio.Lock()
        logger.info("hf rollout server %d ready (%s)", replica_rank, path)

    async def generate(
        self,
        prompt_ids: list[int],
        sampling_params: dict[str, Any],
        request_id: str,
        **kwargs: Any,
    ) -> Any:
        """Sample one response for ``prompt_ids``; ``kwargs`` (multimodal data etc.) unused."""
        from verl.workers.rollout.replica import TokenOutput

        params = dict(sampling_params)
        prompt_ids = [int(t) for t in prompt_ids]
        max_tokens = params.pop("max_tokens", None) or params.pop("max_new_tokens", None)
        if max_tokens is None:
            max_tokens = min(
                self.config.response_length,
                self.config.prompt_length + self.config.response_length - len(prompt_ids),
            )
        max_tokens = max(1, int(max_tokens))
        async with self._lock:
            token_ids, log_probs = await asyncio.to_thread(
                self._generate, prompt_ids, params, max_tokens
            )
        return TokenOutput(
            token_ids=token_ids,
            log_probs=log_probs if params.get("logprobs") else None,
            stop_reason="completed",
            num_preempted=0,
            extra_fields={"global_steps": self.global_steps},
        )

    @torch.no_grad()
    def _generate(
        self, prompt_ids: list[int], params: dict[str, Any], max_tokens: int
    ) -> tuple[list[int], list[float]]:
        temperature = float(params.get("temperature", 1.0) or 0.0)
        top_p = float(params.get("top_p", 1.0) or 1.0)
        top_k = int(params.get("top_k", -1) or -1)
        sample = temperature > 0
        input_ids = torch.tensor([prompt_ids], dtype=torch.long)
        out = self.model.generate(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            do_sample=sample,
            temperature=temperature if sample else None,
            top_p=top_p if sample else None,
            top_k=top_k if sample and top_k > 0 else 0,
            max_new_tokens=max_tokens,
            eos_token_id=self.eos_ids or None,
            pad_token_id=self.pad_id,
            repetition_penalty=float(params.get("repetition_penalty", 1.0) or 1.0),
            output_logits=True,
            return_dict_in_generate=True,
        )
        new = out.sequences[0, len(prompt_ids) :].tolist()
        # Drop what generate padded after an EOS; keep the EOS itself (as vLLM does).
        for i, token in enumerate(new):
            if token in self.eos_ids:
                new = new[: i + 1]
                break
        log_probs = [
            torch.log_softmax(logits[0].float(), dim=-1)[token].item()
            for logits, token in zip(out.logits, new, strict=False)
        ]
        return new, log_probs

    def load_weights(
        self, weights: dict[str, torch.Tensor], global_steps: int | None = None
    ) -> int:
        """Copy the actor's weights in (HF parameter names); returns how many were loaded."""
        state = self.model.state_dict()
        loaded = 0
        unknown = []
        with torch.no_grad():
            for name, tensor in weights.items():
                key = name if name in state else name.removeprefix("module.")
                if key not in state:
                    unknown.append(name)
                    continue
                state[key].copy_(tensor.to(dtype=state[key].dtype).view_as(state[key]))
                loaded += 1
        if unknown or not loaded:
            raise ValueError(
                f"weights the rollout model does not have: {unknown[:5]} (loaded {loaded})"
            )
        self.model.tie_weights()
        self.global_steps = global_steps
        self.weight_version += 1
        logger.info(
            "hf rollout %d: weights synced (%d tensors, sync %d, step %s)",
            self.replica_rank,
            loaded,
            self.weight_version,
            global_steps,
        )
        return loaded

    # The replica's lifecycle calls: nothing to free or restore on the CPU.
    async def wake_up(self, tags: list[str] | None = None) -> None:
        pass

    async def sleep(self) -> None:
        pass

    async def clear_kv_cache(self) -> None:
        pass

    async def release_kv_cache(self) -> None:
        pass

    async def resume_kv_cache(self) -> None:
        pass

    async def abort_all_requests(
        self, reject_request: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        return {}

    async def resume_generation(self) -> None:
        pass

    async def set_global_steps(self, global_steps: int) -> None:
        self.global_steps = global_steps

    async def start_profile(self, **kwargs: Any) -> None:
        pass

    async def stop_profile(self) -> None:
        pass

    def stats(self) -> dict[str, Any]:
        return {"weight_version": self.weight_version, "global_steps": self.global_steps}


def _replica_class() -> type:
    from verl.workers.rollout.replica import RolloutReplica

    class HFReplica(RolloutReplica):
        """A replica served by one ``HFRolloutServer`` actor (tensor parallel size 1)."""

        async def launch_servers(self) -> None:
            import ray

            if self.world_size != 1:
                raise ValueError(
                    f"the hf rollout serves a whole model per replica: tensor/data/pipeline "
                    f"parallel sizes must be 1, got a replica world size of {self.world_size}"
                )
            role = (
                "_reward" if self.is_reward_model else "_teacher" if self.is_teacher_model else ""
            )
            name = server_name(self.replica_rank, role + self.name_suffix)
            server = (
                ray.remote(HFRolloutServer)
                .options(name=name, num_cpus=0, max_concurrency=self.max_concurrency)
                .remote(self.config, self.model_config, self.replica_rank)
            )
            await server.stats.remote()  # raises here if the model does not load
            self.servers = [server]
            self._server_handle = server
            self._server_address = name  # no HTTP endpoint; the load balancer only needs a key

    return HFReplica


def _load_replica() -> type:
    return HF_REPLICA


async def _iterate(weights: Iterable[Any] | AsyncIterator[Any]) -> AsyncIterator[Any]:
    if hasattr(weights, "__aiter__"):
        async for item in weights:
            yield item
    else:
        for item in weights:
            yield item


def _adapter_class() -> type:
    from verl.workers.rollout.base import BaseRollout

    class HFServerAdapter(BaseRollout):
        """The rollout object verl builds in each actor worker: forwards weights to the server.

        With the naive (colocated) weight sync, verl calls ``update_weights`` with a generator
        of full ``(name, tensor)`` pairs from the FSDP engine on every rank; rank 0 of each
        replica collects them and sends them to its server, the other ranks drain the generator
        (it may run collectives).
        """

        def __init__(
            self, config: Any, model_config: Any, device_mesh: Any, replica_rank: int = -1
        ) -> None:
            super().__init__(config, model_config, device_mesh)
            rank = int(os.environ.get("RANK", "0"))
            per_replica = (
                self.config.tensor_model_parallel_size
                * self.config.data_parallel_size
                * self.config.pipeline_model_parallel_size
            )
            self.replica_rank = rank // per_replica if replica_rank == -1 else replica_rank
            self._has_server = rank % per_replica == 0
            self._server: Any = None

        def _server_handle(self) -> Any:
            import ray

            if self._server is None:
                self._server = ray.get_actor(server_name(self.replica_rank))
            return self._server

        async def resume(self, tags: list[str]) -> None:
            pass

        async def release(self) -> None:
            pass

        async def update_weights(
            self, weights: Any, wire_format: str = "named_tensors", **kwargs: Any
        ) -> None:
            if wire_format != "named_tensors":
                raise NotImplementedError(f"the hf rollout takes named tensors, not {wire_format}")
            if kwargs.get("peft_config") is not None:
                raise NotImplementedError("the hf rollout takes merged weights, not LoRA adapters")
            collected: dict[str, torch.Tensor] = {}
            async for name, tensor in _iterate(weights):
                if self._has_server:
                    full = tensor.full_tensor() if hasattr(tensor, "full_tensor") else tensor
                    collected[name] = full.detach().to("cpu").clone()
            if self._has_server:
                await self._server_handle().load_weights.remote(
                    collected, kwargs.get("global_steps")
                )

    return HFServerAdapter


# Set by register() below, at import, before verl can look them up by their dotted paths.
HF_REPLICA: type = None  # type: ignore[assignment]
HF_SERVER_ADAPTER: type = None  # type: ignore[assignment]


def register() -> None:
    """Register the CPU platform patch and the ``hf`` rollout with verl (idempotent)."""
    global HF_REPLICA, HF_SERVER_ADAPTER
    from verl.workers.rollout import base, replica

    _install_process_group_patch()
    if HF_REPLICA is None:
        HF_REPLICA = _replica_class()
        HF_SERVER_ADAPTER = _adapter_class()
    # verl's rollout registry maps (name, mode) to a dotted path it imports.
    base._ROLLOUT_REGISTRY[(ROLLOUT, "async")] = f"{__name__}.HF_SERVER_ADAPTER"
    replica.RolloutReplicaRegistry.register(ROLLOUT, _load_replica)


register()

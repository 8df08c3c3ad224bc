"""``vllm:MODEL``: the vLLM offline engine in this process, for a GPU machine without a server.

One ``LLM.chat`` call per batch of prompts, each asking ``n`` samples, so vLLM schedules the
whole batch at once. vLLM is optional (``pip install 'scaler[vllm]'``) and imported only
when a policy is built. The engine's ``seed`` makes a run repeatable as a whole (same prompts,
same order); for per-prompt repeatability across resumed runs use the ``hf`` policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scaler.errors import ScalerError
from scaler.evaluate.policies import (
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_P,
    Messages,
    check_samples,
    recorded,
)
from scaler.synth.llm import check_sampling


class VLLMPolicy:
    """A ``vllm.LLM`` engine; options other than the sampling ones go to the engine.

    Sampling options: ``temperature``, ``top_p``, ``max_tokens`` (``None``: up to the
    context, as a server does; vLLM's own default is 16 tokens), ``chat_template_kwargs``.
    Anything else (``tensor_parallel_size``, ``max_model_len``, ``gpu_memory_utilization``,
    ``dtype`` ...) is an engine option, recorded with the results.
    """

    def __init__(
        self,
        model: str,
        *,
        temperature: float = DEFAULT_TEMPERATURE,
        top_p: float | None = DEFAULT_TOP_P,
        max_tokens: int | None = None,
        seed: int = 0,
        chat_template_kwargs: Mapping[str, Any] | None = None,
        **engine_options: Any,
    ) -> None:
        temperature, top_p, max_tokens = check_sampling(temperature, top_p, max_tokens)
        try:
            import vllm
        except ImportError as exc:
            raise ScalerError(
                f"the vllm policy needs vLLM, which is not installed ({exc}): pip install "
                "'scaler[vllm]', or serve the model with `vllm serve` and evaluate openai:MODEL"
            ) from exc
        self._vllm = vllm
        self.name = model
        self.temperature = temperature
        self.top_p = top_p
        self.max_tokens = max_tokens
        self.seed = seed
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.engine_options = dict(engine_options)
        self._llm = vllm.LLM(model=model, seed=seed, **engine_options)

    @property
    def settings(self) -> dict[str, Any]:
        return recorded(
            {
                "temperature": self.temperature,
                "top_p": self.top_p,
                "max_tokens": self.max_tokens,
                "seed": self.seed,
                "chat_template_kwargs": self.chat_template_kwargs,
                "engine": self.engine_options,
            }
        )

    def generate(self, messages_list: Sequence[Messages], n: int) -> list[list[str]]:
        check_samples(n)
        if not messages_list:
            return []
        sampling = self._vllm.SamplingParams(
            n=n,
            temperature=self.temperature,
            top_p=1.0 if self.top_p is None else self.top_p,
            max_tokens=self.max_tokens,
        )
        options: dict[str, Any] = {"use_tqdm": False}
        if self.chat_template_kwargs:
            options["chat_template_kwargs"] = self.chat_template_kwargs
        chats = [[dict(m) for m in messages] for messages in messages_list]
        outputs = self._llm.chat(chats, sampling, **options)
        if len(outputs) != len(chats):
            raise ScalerError(f"vllm {self.name}: {len(outputs)} outputs for {len(chats)} prompts")
        return [[sample.text for sample in output.outputs] for output in outputs]

    def close(self) -> None:
        """Drop the engine so its GPU memory can be freed once nothing else holds it."""
        self._llm = None

"""``vllm:MODEL``: the vLLM offline engine in this process, for a GPU machine without a server.

One ``LLM.chat`` call per batch of prompts, each asking ``n`` samples, so vLLM schedules the
whole batch at once. The engine itself (options, sampling, the missing-vLLM error) is
``synth/vllm_engine.py``, shared with the synthesis client. The engine's ``seed`` makes a run
repeatable as a whole (same prompts, same order); for per-prompt repeatability across resumed
runs use the ``hf`` policy.
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
from scaler.synth.vllm_engine import VLLMEngine


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
        self.name = model
        self.seed = seed
        self.engine_options = dict(engine_options)
        self._engine = VLLMEngine(
            model,
            user="policy",
            instead="evaluate openai:MODEL",
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            chat_template_kwargs=chat_template_kwargs,
            engine_options={"seed": seed, **engine_options},
        )

    @property
    def settings(self) -> dict[str, Any]:
        return recorded(
            {
                "temperature": self._engine.temperature,
                "top_p": self._engine.top_p,
                "max_tokens": self._engine.max_tokens,
                "seed": self.seed,
                "chat_template_kwargs": self._engine.chat_template_kwargs,
                "engine": self.engine_options,
            }
        )

    def generate(self, messages_list: Sequence[Messages], n: int) -> list[list[str]]:
        check_samples(n)
        if not messages_list:
            return []
        outputs = self._engine.chat(messages_list, n)
        if len(outputs) != len(messages_list):
            raise ScalerError(
                f"vllm {self.name}: {len(outputs)} outputs for {len(messages_list)} prompts"
            )
        return [[sample.text for sample in output.outputs] for output in outputs]

    def close(self) -> None:
        """Drop the engine so its GPU memory can be freed once nothing else holds it."""
        self._engine.close()

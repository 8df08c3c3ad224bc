"""``vllm:MODEL``: the vLLM offline engine in this process, for a GPU machine without a server.

The engine itself (options, sampling, the missing-vLLM error, taking turns) is
``synth/vllm_engine.py``, shared with the evaluation policy; this adapter asks it one
conversation per request and reads the answer as a ``Completion``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scaler.synth.llm import Completion, LLMError, LLMRequest
from scaler.synth.vllm_engine import VLLMEngine


class VLLMClient:
    """One ``vllm.LLM`` engine; requests from several threads take turns on it.

    Options other than the sampling ones (``temperature``, ``top_p``, ``max_tokens``) and
    ``chat_template_kwargs`` go to ``vllm.LLM`` as engine options (``tensor_parallel_size``,
    ``max_model_len``, ``gpu_memory_utilization`` ...).
    """

    def __init__(
        self,
        model: str,
        *,
        temperature: float = 0.6,
        top_p: float | None = None,
        max_tokens: int | None = None,
        chat_template_kwargs: Mapping[str, Any] | None = None,
        **engine_options: Any,
    ) -> None:
        self.model = model
        self._engine = VLLMEngine(
            model,
            user="client",
            instead="use --llm openai:MODEL",
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            chat_template_kwargs=chat_template_kwargs,
            engine_options=engine_options,
        )

    def complete(self, request: LLMRequest) -> Completion:
        try:
            outputs = self._engine.chat([request.messages])
        except Exception as exc:
            raise LLMError(
                f"vllm {self.model}: problem {request.problem_id!r}, stage {request.stage}, "
                f"attempt {request.attempt}: {type(exc).__name__}: {exc}"
            ) from exc
        if not outputs or not outputs[0].outputs:
            raise LLMError(
                f"vllm {self.model}: no output for problem {request.problem_id!r}, "
                f"stage {request.stage}, attempt {request.attempt}"
            )
        output = outputs[0]
        answer = output.outputs[0]
        prompt_ids = getattr(output, "prompt_token_ids", None)
        answer_ids = getattr(answer, "token_ids", None)
        return Completion(
            answer.text,
            len(prompt_ids) if prompt_ids is not None else None,
            len(answer_ids) if answer_ids is not None else None,
        )

    def close(self) -> None:
        """Drop the engine so its GPU memory can be freed once nothing else holds it."""
        self._engine.close()

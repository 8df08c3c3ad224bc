"""``vllm:MODEL``: the vLLM offline engine in this process, for a GPU machine without a server.

vLLM is an optional dependency (``pip install 'scaler[vllm]'``); it is imported only when a client
is built, so the core imports and its tests run without it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from scaler.errors import ScalerError
from scaler.synth.llm import Completion, LLMError, LLMRequest, check_sampling


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
        temperature, top_p, max_tokens = check_sampling(temperature, top_p, max_tokens)
        try:
            import vllm
        except ImportError as exc:
            raise ScalerError(
                f"the vllm client needs vLLM, which is not installed ({exc}): "
                "pip install 'scaler[vllm]', or serve the model with `vllm serve` and use "
                "--llm openai:MODEL"
            ) from exc
        self.model = model
        self._llm = vllm.LLM(model=model, **engine_options)
        # max_tokens=None is passed on purpose: vLLM's own default is 16 tokens, while None lets
        # an answer run to the end of the context, as a server does.
        self._sampling = vllm.SamplingParams(
            temperature=temperature,
            top_p=1.0 if top_p is None else top_p,
            max_tokens=max_tokens,
        )
        self._chat_options: dict[str, Any] = {"use_tqdm": False}
        if chat_template_kwargs:
            self._chat_options["chat_template_kwargs"] = dict(chat_template_kwargs)
        # The engine is not thread-safe; the pipeline calls clients from several threads.
        self._lock = threading.Lock()

    def complete(self, request: LLMRequest) -> Completion:
        messages = [dict(message) for message in request.messages]
        with self._lock:
            try:
                outputs = self._llm.chat(messages, self._sampling, **self._chat_options)
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
        with self._lock:
            self._llm = None

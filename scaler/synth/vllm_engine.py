"""The one wrapper around vLLM's offline engine (``vllm.LLM``), shared by the ``vllm:MODEL``
synthesis client (``synth/llm_vllm.py``) and evaluation policy (``evaluate/vllm_policy.py``).

Both build the engine, its sampling and its chat options the same way; only what they ask of it
(one conversation, or a batch with ``n`` samples each) and how they read the answers differ.
It lives in ``synth/`` beside ``check_sampling``, which evaluation already imports from here.
vLLM is an optional dependency (``pip install 'scaler[vllm]'``), imported only when an engine is
built, so the core imports and its tests run without it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from scaler.errors import ScalerError
from scaler.synth.llm import check_sampling


class VLLMEngine:
    """A ``vllm.LLM`` with checked sampling options; calls from several threads take turns.

    ``max_tokens=None`` is passed to vLLM on purpose: its own default is 16 tokens, while
    ``None`` lets an answer run to the end of the context, as a server does. ``top_p=None``
    means no nucleus cut (1.0). ``engine_options`` (``tensor_parallel_size``, ``seed``,
    ``max_model_len`` ...) go to ``vllm.LLM`` unchanged.
    """

    def __init__(
        self,
        model: str,
        *,
        user: str,
        instead: str,
        temperature: float,
        top_p: float | None,
        max_tokens: int | None,
        chat_template_kwargs: Mapping[str, Any] | None,
        engine_options: Mapping[str, Any],
    ) -> None:
        """``user`` (``client``, ``policy``) and ``instead`` (what to use without vLLM) word
        the error when vLLM is missing. Bad sampling options are refused before vLLM is
        imported, so the field is named whether or not vLLM is installed."""
        self.temperature, self.top_p, self.max_tokens = check_sampling(
            temperature, top_p, max_tokens
        )
        try:
            import vllm
        except ImportError as exc:
            raise ScalerError(
                f"the vllm {user} needs vLLM, which is not installed ({exc}): pip install "
                f"'scaler[vllm]', or serve the model with `vllm serve` and {instead}"
            ) from exc
        self.model = model
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self._vllm = vllm
        self._llm: Any = vllm.LLM(model=model, **engine_options)
        # The engine is not thread-safe; the synthesis pipeline calls clients from threads.
        self._lock = threading.Lock()

    def chat(self, chats: Sequence[Sequence[Mapping[str, str]]], n: int = 1) -> list[Any]:
        """One ``LLM.chat`` call for all ``chats``, ``n`` samples each, so vLLM schedules them
        together; vLLM's outputs as they come (one per chat, each with ``.outputs``)."""
        sampling = self._vllm.SamplingParams(
            n=n,
            temperature=self.temperature,
            top_p=1.0 if self.top_p is None else self.top_p,
            max_tokens=self.max_tokens,
        )
        options: dict[str, Any] = {"use_tqdm": False}
        if self.chat_template_kwargs:
            options["chat_template_kwargs"] = self.chat_template_kwargs
        asked = [[dict(message) for message in chat] for chat in chats]
        with self._lock:
            if self._llm is None:
                raise ScalerError(f"vllm {self.model}: the engine is closed")
            return list(self._llm.chat(asked, sampling, **options))

    def close(self) -> None:
        """Drop the engine so its GPU memory can be freed once nothing else holds it."""
        with self._lock:
            self._llm = None

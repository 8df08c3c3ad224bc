"""``hf:MODEL``: a Hugging Face transformers model in this process (CPU works, slowly).

For a checkpoint straight out of training, with no server to start: verl saves Hugging Face
weights, and this loads them with ``AutoModelForCausalLM``. torch and transformers are optional
(``pip install 'scaler[hf]'``) and imported only when a policy is built.

Sampling is made repeatable per prompt rather than per run: the random generator is seeded
from the run's ``seed`` and the prompt's text before each prompt's samples are drawn, so a
resumed evaluation, or one that asks in another order or batch, gets the same answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from scaler.errors import ConfigError, ScalerError
from scaler.evaluate.policies import (
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_P,
    Messages,
    check_samples,
    recorded,
)
from scaler.synth.llm import check_sampling

#: The answer budget in tokens when none is given: enough for a reasoned answer, bounded on a CPU.
DEFAULT_MAX_TOKENS = 2048


def prompt_seed(seed: int, messages: Messages) -> int:
    """A 63-bit seed from the run's seed and the chat, independent of order and batching."""
    text = json.dumps([seed, [dict(m) for m in messages]], sort_keys=True)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1


class TransformersPolicy:
    """A causal LM and its tokenizer, loaded once; chats rendered with the model's template.

    ``device`` is ``auto`` (the first CUDA GPU when there is one, else the CPU), or any torch
    device string; ``dtype`` is ``auto`` (the checkpoint's own) or a torch dtype name.
    ``temperature = 0`` decodes greedily.
    """

    def __init__(
        self,
        model: str,
        *,
        temperature: float = DEFAULT_TEMPERATURE,
        top_p: float | None = DEFAULT_TOP_P,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        seed: int = 0,
        device: str = "auto",
        dtype: str = "auto",
        chat_template_kwargs: Mapping[str, Any] | None = None,
        trust_remote_code: bool = False,
    ) -> None:
        temperature, top_p, tokens = check_sampling(temperature, top_p, max_tokens)
        if tokens is None:  # generate's own default is 20 tokens in all
            raise ConfigError("must be a whole number >= 1, got None", field="max_tokens")
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise ScalerError(
                f"the hf policy needs torch and transformers, which are not installed ({exc}): "
                "pip install 'scaler[hf]'"
            ) from exc
        self._torch = torch
        self.name = model
        self.temperature = temperature
        self.top_p = top_p
        self.max_tokens = tokens
        self.seed = seed
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                model, trust_remote_code=trust_remote_code
            )
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                model,
                trust_remote_code=trust_remote_code,
                **{_dtype_keyword(transformers.__version__): _dtype(torch, dtype)},
            )
        except (OSError, ValueError) as exc:
            raise ScalerError(f"hf policy: cannot load {model!r}: {exc}") from exc
        if not self.tokenizer.chat_template:
            raise ScalerError(
                f"hf policy: the tokenizer of {model!r} has no chat template; evaluation "
                "prompts are chats (set one in its tokenizer_config.json)"
            )
        self.model.to(self.device).eval()
        # Batched rows are padded on the left so that every row's answer starts at one column.
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    @property
    def settings(self) -> dict[str, Any]:
        return recorded(
            {
                "temperature": self.temperature,
                "top_p": self.top_p,
                "max_tokens": self.max_tokens,
                "seed": self.seed,
                "dtype": str(self.model.dtype).removeprefix("torch."),
                "chat_template_kwargs": self.chat_template_kwargs,
            }
        )

    def generate(self, messages_list: Sequence[Messages], n: int) -> list[list[str]]:
        check_samples(n)
        return [self._sample(messages, n) for messages in messages_list]

    def _sample(self, messages: Messages, n: int) -> list[str]:
        torch = self._torch
        text = self.tokenizer.apply_chat_template(
            [dict(m) for m in messages],
            tokenize=False,
            add_generation_prompt=True,
            **self.chat_template_kwargs,
        )
        encoded = self.tokenizer(
            [text] * n, return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.device)
        sampling: dict[str, Any] = {"do_sample": self.temperature > 0}
        if sampling["do_sample"]:
            sampling["temperature"] = self.temperature
            sampling["top_p"] = 1.0 if self.top_p is None else self.top_p
            sampling["top_k"] = 0
        else:
            sampling.update(temperature=None, top_p=None, top_k=None)
        torch.manual_seed(prompt_seed(self.seed, messages))
        with torch.inference_mode():
            output = self.model.generate(
                **encoded,
                max_new_tokens=self.max_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                **sampling,
            )
        answers = output[:, encoded["input_ids"].shape[1] :]
        return cast(list[str], self.tokenizer.batch_decode(answers, skip_special_tokens=True))

    def close(self) -> None:
        """Drop the model so its memory can be freed once nothing else holds it."""
        self.model = None


def _dtype(torch: Any, name: str) -> Any:
    if name == "auto":
        return "auto"
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ScalerError(f"dtype must be auto or a torch dtype (bfloat16 ...), got {name!r}")
    return dtype


def _dtype_keyword(version: str) -> str:
    """transformers 4.56 renamed ``torch_dtype`` to ``dtype``; verl pins releases on both sides."""
    major, minor = (int(part) for part in version.split(".")[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"

"""``hf:MODEL``: a Hugging Face transformers model in this process (CPU works, slowly).

For a checkpoint straight out of training, with no server to start: verl saves Hugging Face
weights, and this loads them with ``AutoModelForCausalLM``. torch and transformers are optional
(``pip install 'scaler[hf]'``) and imported only when a policy is built.

Prompts are generated together, up to ``batch_size`` rows (a prompt's samples are rows of
their own), padded on the left: a decoding step costs about the same at batch 1 as at 64, so
batching is nearly all of the speed. Sampling is repeatable per row rather than per run: each
row draws its tokens from a random generator of its own, seeded from the run's ``seed``, the
prompt's text and the sample's index, so a resumed evaluation, or one that asks in another
order or batch, gets the same answers.
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
#: Rows generated together at most. On an H200 a 135M model's decoding step cost the same
#: ~80 ms at batch 1, 64 and 256; the bound keeps a large model's cache in memory.
DEFAULT_BATCH_SIZE = 64


def sample_seed(seed: int, messages: Messages, sample: int) -> int:
    """A 63-bit seed from the run's seed, the chat and the sample's index: independent of
    order and batching."""
    text = json.dumps([seed, [dict(m) for m in messages], sample], sort_keys=True)
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
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        temperature, top_p, tokens = check_sampling(temperature, top_p, max_tokens)
        if tokens is None:  # generate's own default is 20 tokens in all
            raise ConfigError("must be a whole number >= 1, got None", field="max_tokens")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ConfigError(
                f"must be a whole number >= 1, got {batch_size!r}", field="batch_size"
            )
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
        self.batch_size = batch_size
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
        """``n`` samples of every chat, generated ``batch_size`` rows at a time; rows of similar
        length go together (less padding), which changes no answer."""
        check_samples(n)
        texts = [self._render(messages) for messages in messages_list]
        rows = sorted(
            ((i, k) for i in range(len(texts)) for k in range(n)), key=lambda r: len(texts[r[0]])
        )
        answers = [[""] * n for _ in texts]
        for first in range(0, len(rows), self.batch_size):
            chunk = rows[first : first + self.batch_size]
            seeds = [sample_seed(self.seed, messages_list[i], k) for i, k in chunk]
            made = self._generate([texts[i] for i, _ in chunk], seeds)
            for (i, k), answer in zip(chunk, made, strict=True):
                answers[i][k] = answer
        return answers

    def _render(self, messages: Messages) -> str:
        return cast(
            str,
            self.tokenizer.apply_chat_template(
                [dict(m) for m in messages],
                tokenize=False,
                add_generation_prompt=True,
                **self.chat_template_kwargs,
            ),
        )

    def _generate(self, texts: list[str], seeds: list[int]) -> list[str]:
        torch = self._torch
        encoded = self.tokenizer(
            texts, return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.device)
        # Greedy over what the row sampler leaves: one token per row, drawn from the row's own
        # generator (generate's sampling would draw every row from one).
        decoding: dict[str, Any] = {"do_sample": False, "temperature": None, "top_p": None}
        decoding["top_k"] = None
        if self.temperature > 0:
            sampler = RowSampler(torch, seeds, self.temperature, self.top_p, self.device)
            decoding["logits_processor"] = _processors(sampler)
        with torch.inference_mode():
            output = self.model.generate(
                **encoded,
                max_new_tokens=self.max_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                **decoding,
            )
        answers = output[:, encoded["input_ids"].shape[1] :]
        return cast(list[str], self.tokenizer.batch_decode(answers, skip_special_tokens=True))

    def close(self) -> None:
        """Drop the model so its memory can be freed once nothing else holds it."""
        self.model = None


class RowSampler:
    """A logits processor that samples each row's next token from that row's own random
    generator (temperature, then top-p as transformers' warpers do) and leaves only it, so
    that greedy decoding takes it. A row's draws depend on its seed and its own tokens alone."""

    def __init__(
        self, torch: Any, seeds: Sequence[int], temperature: float, top_p: float | None, device: Any
    ) -> None:
        self.torch = torch
        self.temperature = temperature
        self.top_p = top_p
        self.generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        torch = self.torch
        logits = scores.float() / self.temperature
        if self.top_p is not None and self.top_p < 1:
            ascending, order = torch.sort(logits, descending=False)
            cumulative = ascending.softmax(dim=-1).cumsum(dim=-1)
            drop = cumulative <= 1 - self.top_p
            drop[..., -1:] = False  # the likeliest token always stays
            logits = logits.masked_fill(drop.scatter(1, order, drop), float("-inf"))
        probabilities = logits.softmax(dim=-1)
        picked = torch.cat(
            [
                torch.multinomial(row, 1, generator=generator)
                for row, generator in zip(probabilities, self.generators, strict=True)
            ]
        )
        only = torch.full_like(scores, float("-inf"))
        return only.scatter(1, picked.unsqueeze(1), 0.0)


def _processors(sampler: RowSampler) -> Any:
    from transformers import LogitsProcessorList

    return LogitsProcessorList([sampler])


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

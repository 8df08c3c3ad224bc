"""A chat model of a few thousand parameters, built on the spot: no hub, no download.

Tests that need a real transformers model (a policy, a tokenizer) build one here. The
tokenizer splits on whitespace into a fixed vocabulary (digits, a few words, ``\\boxed{..}``
answers as single tokens) and has a ChatML template. ``always`` turns the model into one that
repeats a single token whatever it is asked, so a test can know the answer a real model gives.
"""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|> {{ message['role'] }} {{ message['content'] }} "
    "<|im_end|> {% endfor %}{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
)
SPECIAL = ("<unk>", "<pad>", "<|im_start|>", "<|im_end|>")
WORDS = (
    "system", "user", "assistant", "the", "answer", "is", "input", "output", "level",
    "\\boxed{3}", "\\boxed{4}", "\\boxed{7}",
)  # fmt: skip


def vocabulary() -> list[str]:
    return [*SPECIAL, *WORDS, *(str(d) for d in range(100))]


def build(path: Path, *, always: str | None = None, seed: int = 0) -> Path:
    """Save a tiny Phi model and its tokenizer under ``path``; returns ``path``."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PhiConfig, PhiForCausalLM, PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(vocabulary())}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="<unk>",
        pad_token="<pad>",
        eos_token="<|im_end|>",
        bos_token="<|im_start|>",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = PhiConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=4096,
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["<|im_end|>"],
        bos_token_id=vocab["<|im_start|>"],
    )
    model = PhiForCausalLM(config)
    if always is not None:
        # A zero final layer norm makes every hidden state zero, so the logits are the output
        # bias alone: one token far above the rest, whatever the input.
        with torch.no_grad():
            model.model.final_layernorm.weight.zero_()
            model.model.final_layernorm.bias.zero_()
            model.lm_head.bias.fill_(-30.0)
            model.lm_head.bias[vocab[always]] = 30.0
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path

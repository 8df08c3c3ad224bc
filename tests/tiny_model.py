"""Chat models of a few thousand parameters, built on the spot: no hub, no download.

``build``: a Phi model whose tokenizer splits on whitespace into a fixed vocabulary (digits, a
few words, ``\\boxed{..}`` answers as single tokens), with a ChatML template. ``always`` turns
it into one that repeats a single token whatever it is asked, so a test knows the answer a real
model gives. ``build_trained``: a Qwen2 whose byte-level BPE tokenizer is trained on the texts
it will see (scaler's prompts fit in a few hundred tokens), for training runs through verl.
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


def build(
    path: Path, *, always: str | None = None, favour: tuple[str, ...] = (), seed: int = 0
) -> Path:
    """Save a tiny Phi model and its tokenizer under ``path``; returns ``path``.

    ``favour``: tokens the random model samples far more often than the rest (about half of
    its tokens), so that its answers to a question of those tokens are sometimes right.
    """
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
    if favour:
        with torch.no_grad():
            for token in favour:
                model.lm_head.bias[vocab[token]] = 4.0
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_trained(path: Path, texts: list[str], *, max_length: int = 2048) -> Path:
    """Save a random 2-layer Qwen2 and a BPE tokenizer trained on ``texts``; returns ``path``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast, Qwen2Config

    torch.manual_seed(0)
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        texts,
        trainers.BpeTrainer(
            vocab_size=2048,
            special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<pad>", bos_token=None
    )
    tokenizer.chat_template = (
        "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
        "{{ message['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    tokenizer.save_pretrained(path)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_length,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    )
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(path)
    return path

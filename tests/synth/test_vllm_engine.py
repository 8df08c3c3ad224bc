"""The shared vLLM engine wrapper and the synthesis client on it, through ``tests/fake_vllm.py``
(vLLM cannot run on these CPU-only machines; the evaluation policy's tests use the same fake)."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import pytest

from scaler.errors import ConfigError, ScalerError
from scaler.synth.llm import LLMError, LLMRequest
from scaler.synth.llm_vllm import VLLMClient
from scaler.synth.vllm_engine import VLLMEngine
from tests import fake_vllm

CHAT = ({"role": "system", "content": "Be terse."}, {"role": "user", "content": "2+2?"})


def engine(**overrides: Any) -> VLLMEngine:
    options: dict[str, Any] = {
        "user": "client",
        "instead": "use --llm openai:MODEL",
        "temperature": 0.6,
        "top_p": None,
        "max_tokens": None,
        "chat_template_kwargs": None,
        "engine_options": {},
    }
    return VLLMEngine("/models/q", **{**options, **overrides})


def test_the_engine_gets_its_options_and_each_chat_one_call_with_n_samples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = fake_vllm.install(monkeypatch)
    built = engine(
        temperature=0.2,
        max_tokens=64,
        chat_template_kwargs={"enable_thinking": False},
        engine_options={"tensor_parallel_size": 2, "seed": 7},
    )
    assert fake.made == [{"model": "/models/q", "tensor_parallel_size": 2, "seed": 7}]
    outputs = built.chat([CHAT, CHAT[1:]], 2)
    assert [[sample.text for sample in output.outputs] for output in outputs] == [
        ["2+2?#0", "2+2?#1"],
        ["2+2?#0", "2+2?#1"],
    ]
    ((asked, sampling, options),) = fake.calls
    assert asked == [list(CHAT), list(CHAT[1:])]
    # top_p None is no cut; max_tokens is passed even when None (vLLM's own default is 16).
    assert vars(sampling) == {"n": 2, "temperature": 0.2, "top_p": 1.0, "max_tokens": 64}
    assert options == {"use_tqdm": False, "chat_template_kwargs": {"enable_thinking": False}}
    engine().chat([CHAT])
    assert vars(fake.calls[-1][1]) == {"n": 1, "temperature": 0.6, "top_p": 1.0, "max_tokens": None}
    assert fake.calls[-1][2] == {"use_tqdm": False}


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"top_p": 0}, "top_p"),
        ({"temperature": -1}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
    ],
)
def test_bad_sampling_is_refused_before_vllm_is_imported(
    options: dict[str, Any], field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(ConfigError) as caught:
        engine(**options)
    assert caught.value.field == field


def test_without_vllm_the_error_names_the_install_and_what_to_use_instead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(ScalerError) as caught:
        engine(user="policy", instead="evaluate openai:MODEL")
    message = str(caught.value)
    assert message.startswith("the vllm policy needs vLLM")
    assert "pip install 'scaler[vllm]'" in message
    assert message.endswith("`vllm serve` and evaluate openai:MODEL")


def test_a_closed_engine_refuses_chats(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_vllm.install(monkeypatch)
    built = engine()
    built.close()
    built.close()
    with pytest.raises(ScalerError, match="the engine is closed"):
        built.chat([CHAT])


def test_chats_from_several_threads_take_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    inside: list[int] = []

    class Slow(fake_vllm.Engine):
        def chat(self, chats: list[Any], sampling: Any, **options: Any) -> list[Any]:
            inside.append(1)
            time.sleep(0.02)
            assert len(inside) == 1, "two chats ran on the engine at once"
            inside.pop()
            return super().chat(chats, sampling, **options)

    fake_vllm.install(monkeypatch, Slow)
    built = engine()
    threads = [threading.Thread(target=built.chat, args=([CHAT],)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(Slow.calls) == 4


# -- the synthesis client on it -----------------------------------------------------------------


def request() -> LLMRequest:
    return LLMRequest("p1", "extract", 0, CHAT)


def test_the_client_answers_with_the_text_and_token_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = fake_vllm.install(monkeypatch)
    client = VLLMClient("/models/q", max_model_len=4096)
    assert fake.made == [{"model": "/models/q", "max_model_len": 4096}]
    completion = client.complete(request())
    assert (completion.text, completion.prompt_tokens, completion.completion_tokens) == (
        "2+2?#0", 2, 1
    )  # fmt: skip
    client.close()
    with pytest.raises(LLMError, match="problem 'p1', stage extract, attempt 0: ScalerError"):
        client.complete(request())


def test_the_client_turns_engine_failures_and_empty_answers_into_llm_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Failing(fake_vllm.Engine):
        def chat(self, chats: list[Any], sampling: Any, **options: Any) -> list[Any]:
            raise RuntimeError("CUDA out of memory")

    fake_vllm.install(monkeypatch, Failing)
    with pytest.raises(LLMError, match="attempt 0: RuntimeError: CUDA out of memory"):
        VLLMClient("/models/q").complete(request())

    class Silent(fake_vllm.Engine):
        def chat(self, chats: list[Any], sampling: Any, **options: Any) -> list[Any]:
            return []

    fake_vllm.install(monkeypatch, Silent)
    with pytest.raises(LLMError, match="no output for problem 'p1'"):
        VLLMClient("/models/q").complete(request())

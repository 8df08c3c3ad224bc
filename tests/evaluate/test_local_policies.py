"""The in-process policies: ``hf`` with a real (tiny) transformers model, ``vllm``'s mapping.

The ``hf`` tests need torch and transformers (the ``verl`` tox env has both; CI runs them
there) and build their models in the test, so nothing comes from a hub. vLLM cannot run on
these CPU-only machines, so its test drives the policy through a stand-in ``vllm`` module
(``tests/fake_vllm.py``) that records what the policy asks of the engine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from scaler.errors import ConfigError, ScalerError
from scaler.evaluate.envs import result_lines
from scaler.evaluate.policies import POLICIES
from scaler.plugins import Plugins
from tests import fake_vllm as fake_vllm_module
from tests import tiny_model
from tests.evaluate.test_envs import ENVS

torch_needed = pytest.mark.torch


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("torch", reason="torch is not installed (the verl tox env has it)")
    pytest.importorskip("transformers", reason="transformers is not installed")
    root = tmp_path_factory.mktemp("models")
    return {
        "random": tiny_model.build(root / "random"),
        "threes": tiny_model.build(root / "threes", always="\\boxed{3}"),
    }


def _results(out: Path) -> list[dict[str, Any]]:
    return [record for _, record in result_lines(out / "results.jsonl")]


@torch_needed
def test_hf_pool_evaluation_end_to_end_repeatable_and_resumed(
    run: Any, models: dict[str, Path], tmp_path: Path
) -> None:
    model = str(models["random"])
    args = (
        "--envs", ",".join(ENVS), "--levels", "0,1", "-n", "2", "--backend", "process",
        "--policy-option", "max_tokens=8", "--json",
    )  # fmt: skip
    code, stdout, err = run("eval", f"hf:{model}", *args, "--out", str(tmp_path / "a"))
    assert code == 0, err
    data = json.loads(stdout)
    assert data["policy"] == model
    assert data["settings"] == {
        "temperature": 0.6, "top_p": 0.95, "max_tokens": 8, "seed": 0, "dtype": "float32"
    }  # fmt: skip
    assert [env["env_id"] for env in data["envs"]] == list(ENVS)
    first = _results(tmp_path / "a")
    assert len(first) == len(ENVS) * 2 * 2
    assert all(0 < len(row["response"].split()) <= 8 for row in first)
    # Sampling is seeded per prompt: another run elsewhere gives the same answers.
    code, _, err = run("eval", f"hf:{model}", *args, "--out", str(tmp_path / "b"))
    assert code == 0, err
    assert [r["response"] for r in _results(tmp_path / "b")] == [r["response"] for r in first]
    code, stdout, err = run("eval", f"hf:{model}", *args, "--out", str(tmp_path / "a"))
    assert code == 0, err
    assert json.loads(stdout)["resumed"] == len(first)
    assert _results(tmp_path / "a") == first


@torch_needed
def test_hf_bench_avg_at_k_scores_what_the_model_really_says(
    run: Any, models: dict[str, Path], tmp_path: Path
) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [
        {"data_source": "think_toy-math", "prompt": [{"role": "user", "content": q}],
         "ability": "math", "reward_model": {"style": "rule", "ground_truth": truth},
         "extra_info": {"index": i}}
        for i, (q, truth) in enumerate(
            [("1 + 2", "3"), ("6 / 2", "\\frac{6}{2}"), ("2 + 2", "4"), ("3 + 4", "7")]
        )
    ]  # fmt: skip
    path = tmp_path / "toy.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    out = tmp_path / "bench"
    code, stdout, err = run(
        "eval", f"hf:{models['threes']}", "--bench", str(path), "--k", "2",
        "--policy-option", "max_tokens=3", "--out", str(out), "--json",
    )  # fmt: skip
    assert code == 0, err
    (result,) = json.loads(stdout)["benchmarks"]
    # The model answers \boxed{3} to everything: right for "3" and "\frac{6}{2}" only.
    assert (result["questions"], result["avg_at_k"], result["pass_at_k"]) == (4, 0.5, 0.5)
    answers = {row["response"] for row in _results(out)}
    assert answers == {"\\boxed{3} \\boxed{3} \\boxed{3}"}


@torch_needed
def test_hf_greedy_decoding_and_a_missing_model(models: dict[str, Path]) -> None:
    plugins = Plugins.load(environ={})
    factory = plugins.get(POLICIES, "hf")
    greedy = factory(str(models["random"]), temperature=0, max_tokens=5)
    chat = [{"role": "user", "content": "the answer is 3"}]
    first, second = greedy.generate([chat, chat], 2)
    assert first == second and first[0] == first[1], "greedy decoding does not sample"
    with pytest.raises(ScalerError, match="cannot load"):
        factory(str(models["random"] / "missing"))


#: Chats of different lengths, so that batched rows are padded.
CHATS = [
    [{"role": "user", "content": " ".join(["the answer is", *map(str, range(i))])}]
    for i in range(7)
]


@torch_needed
def test_hf_answers_are_the_same_whatever_the_batch_size_or_order(
    models: dict[str, Path],
) -> None:
    factory = Plugins.load(environ={}).get(POLICIES, "hf")
    one = factory(str(models["random"]), max_tokens=6, batch_size=1)
    many = factory(str(models["random"]), max_tokens=6, batch_size=16)
    alone = one.generate(CHATS, 3)
    order = [3, 0, 6, 2, 5, 1, 4]
    together = many.generate([CHATS[i] for i in order], 3)
    assert [together[order.index(i)] for i in range(len(CHATS))] == alone
    assert len({answer for samples in alone for answer in samples}) > len(CHATS), (
        "the samples of a prompt are drawn apart, not copies of one"
    )
    assert many.generate(CHATS[:2], 3) == alone[:2]


@torch_needed
def test_hf_sampling_with_a_vanishing_top_p_is_greedy_decoding(models: dict[str, Path]) -> None:
    factory = Plugins.load(environ={}).get(POLICIES, "hf")
    greedy = factory(str(models["random"]), temperature=0, max_tokens=6).generate(CHATS, 1)
    narrow = factory(str(models["random"]), top_p=1e-9, max_tokens=6, batch_size=4)
    assert narrow.generate(CHATS, 2) == [samples * 2 for samples in greedy]


@torch_needed
def test_hf_batch_size_must_be_a_positive_whole_number(models: dict[str, Path]) -> None:
    factory = Plugins.load(environ={}).get(POLICIES, "hf")
    with pytest.raises(ConfigError, match="batch_size"):
        factory(str(models["random"]), batch_size=0)


@pytest.mark.parametrize("name", ["hf", "vllm"])
@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"top_p": 1.5}, "top_p"),
        ({"temperature": -0.1}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
    ],
)
def test_in_process_policies_refuse_bad_sampling_before_loading_anything(
    name: str, options: dict[str, Any], field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # torch and vllm absent: a bad option is refused first, naming the field.
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(ConfigError) as caught:
        Plugins.load(environ={}).get(POLICIES, name)("some/model", **options)
    assert caught.value.field == field


def test_hf_without_torch_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ScalerError, match=r"pip install 'scaler\[hf\]'"):
        Plugins.load(environ={}).get(POLICIES, "hf")("some/model")


def test_unknown_policy_options_are_refused_naming_the_option(run: Any, tmp_path: Path) -> None:
    code, _, err = run(
        "eval", "openai:m", "--policy-option", "temprature=0.2", "--out", str(tmp_path)
    )
    assert code == 2
    assert "--policy-option" in err and "temprature" in err


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> type[fake_vllm_module.Engine]:
    return fake_vllm_module.install(monkeypatch)


def test_vllm_policy_asks_one_batch_with_n_samples_and_the_papers_decoding(
    fake_vllm: type[fake_vllm_module.Engine],
) -> None:
    policy = Plugins.load(environ={}).get(POLICIES, "vllm")(
        "/models/q", max_tokens=64, tensor_parallel_size=2, chat_template_kwargs={"x": 1}
    )
    chats = [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]]
    assert policy.generate(chats, 3) == [["a#0", "a#1", "a#2"], ["b#0", "b#1", "b#2"]]
    assert fake_vllm.made == [{"model": "/models/q", "seed": 0, "tensor_parallel_size": 2}]
    ((asked, sampling, options),) = fake_vllm.calls
    assert asked == chats
    assert (sampling.n, sampling.temperature, sampling.top_p, sampling.max_tokens) == (
        3, 0.6, 0.95, 64
    )  # fmt: skip
    assert options == {"use_tqdm": False, "chat_template_kwargs": {"x": 1}}
    assert policy.settings["engine"] == {"tensor_parallel_size": 2}
    assert policy.generate([], 3) == [] and len(fake_vllm.calls) == 1


def test_vllm_without_vllm_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(ScalerError, match=r"pip install 'scaler\[vllm\]'"):
        Plugins.load(environ={}).get(POLICIES, "vllm")("some/model")

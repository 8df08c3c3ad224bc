"""Bad input through the command line, and the parsers of its option strings.

Through ``scaler``, every refused input ends with exit status 2 and a message, never a Python
traceback, and a refused command leaves no output behind: no pool file from ``pool import``,
no run directory from ``run``. These targets start the whole CLI per input, so they try fewer
inputs than the parser targets. ``--levels``, ``KEY=VALUE`` options (``--policy-option``,
``--llm-option``) and ``NAME:MODEL`` specs are parsed here as the commands parse them.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any
from unittest import mock

import click
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scaler.cli import main
from scaler.commands.common import key_values, parse_levels
from scaler.errors import ScalerError
from scaler.evaluate.policies import OpenAIPolicy
from scaler.pool import load_pool
from scaler.run import Run
from scaler.synth.llm import parse_llm_spec
from tests.fuzz.seeds import NATIVE_SEEDS, OFFICIAL_SEEDS
from tests.fuzz.strategies import (
    examples,
    file_holding,
    json_bytes,
    json_document,
    junk,
    mutated,
    one_of_seeds,
    toml_text,
)

#: The CLI targets start plugins, commands and (for run) a sandbox per input.
CLI = settings(max_examples=examples(0.2))
#: Plugins named in the environment would change what the CLI loads; the tests unset them.
CLEAN_ENV = {"SCALER_LOAD_PLUGINS": None, "SCALER_BLOCK_PLUGINS": None}


def scaler(*args: str) -> tuple[int, str, str]:
    """Run ``scaler ARGS`` in-process as the console script does: (status, stdout, stderr).
    An exception that ``main`` lets through is what a user would see as a traceback; it is
    raised here, so hypothesis reports and shrinks it."""
    runner = CliRunner()
    with runner.isolation(env=CLEAN_ENV) as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        return code, out.getvalue().decode(), err.getvalue().decode()


def refused(code: int, err: str, *named: str) -> bool:
    """Whether the command refused its input as it should: status 2, a message naming the
    input (an ``error:`` line, or click's ``Error:`` for an option), no traceback."""
    assert "Traceback" not in err
    if code != 2:
        return False
    message = err.strip().splitlines()[-1]
    assert message.startswith(("error: ", "Error: ")), err
    assert all(name in err for name in named), err
    return True


def _instance(output_type: str, answer: str) -> dict[str, Any]:
    return {
        "env_id": "lis-length",
        "env_version": "0123456789abcdef",
        "level": 3,
        "seed": 0,
        "params": {"n": 5},
        "stdin": "5\n1 3 2 4 5\n",
        "shown_input": {"n": 5, "a": [1, 3, 2, 4, 5]},
        "answer": answer,
        "output_type": output_type,
        "messages": [{"role": "user", "content": "Find the answer."}],
        "extra_info": {"env_id": "lis-length", "level": 3, "seed": 0},
    }


INSTANCE_SEEDS: list[Any] = [
    _instance("number", "4"),
    _instance("array", "[1, 2, 4, 5]"),
    [_instance("string", "abc"), _instance("number", "1")],
]
RESPONSES = ("\\boxed{4}", "\\boxed{[1, 2, 4, 5]}", "no box", "\\boxed{" + "9" * 400 + "}")


@CLI
@given(
    one_of_seeds(INSTANCE_SEEDS).flatmap(json_document),
    st.sampled_from(RESPONSES),
    st.booleans(),
)
@example(b"[]", "\\boxed{4}", True)  # IndexError
@example(json_bytes({**_instance("number", "4"), "level": float("inf")}, True), "x", True)
@example(json_bytes(_instance(["number"], "4"), True), "\\boxed{4}", True)  # unhashable type
@example(json_bytes(_instance("", "4"), True), "\\boxed{4}", True)  # named no file
@example(json_bytes(_instance("number", "\ud800"), True), "\\boxed{4}", True)  # not printable
def test_verify_with_any_instance_file_gives_a_verdict_or_exit_2(
    content: bytes, response: str, as_json: bool
) -> None:
    with file_holding(content, "instance.json") as path:
        flags = ["--json"] if as_json else []
        code, out, err = scaler("verify", "--answer", response, "--instance", str(path), *flags)
    if refused(code, err, str(path)):
        return
    assert code in (0, 1)
    if as_json:
        assert json.loads(out)["correct"] is (code == 0)
    else:
        assert out.startswith("correct" if code == 0 else "wrong")


@CLI
@given(st.lists(one_of_seeds(NATIVE_SEEDS).flatmap(json_document), min_size=1, max_size=3))
def test_envs_list_of_any_pool_file_lists_or_exits_2(lines: list[bytes]) -> None:
    with file_holding(b"\n".join(lines), "pool.jsonl") as path:
        code, out, err = scaler("envs", "list", "--pool", str(path), "--json")
    if not refused(code, err, str(path)):
        assert code == 0 and len(json.loads(out)) == len(load_pool_or_empty(lines))


def load_pool_or_empty(lines: list[bytes]) -> list[Any]:
    """What the library reads from the same lines, for comparison with the command's list."""
    with file_holding(b"\n".join(lines), "pool.jsonl") as path:
        return load_pool(path)


@CLI
@given(one_of_seeds(OFFICIAL_SEEDS).flatmap(json_document))
def test_pool_import_writes_a_whole_pool_or_nothing(content: bytes) -> None:
    with file_holding(content, "official.json") as source:
        output = source.parent / "pool.jsonl"
        code, out, err = scaler(
            "pool", "import", str(source), "--format", "scaler-official", "-o", str(output),
            "--json",
        )  # fmt: skip
        left = sorted(p.name for p in source.parent.iterdir())
        if refused(code, err, str(source)):
            assert left == ["official.json"], "a refused import leaves no file"
            return
        assert code == 0 and left == ["official.json", "pool.jsonl"]
        converted = json.loads(out)["converted"]
        assert [env.id for env in load_pool(output)] == converted


class Accepted(Exception):
    """Raised where the run would take its first step: the config got through every check."""


RUN_TABLES = ("run", "pool", "sandbox", "prompt", "controller", "curation", "trainer")
RUN_SEED = {
    "run": {"steps": 1, "seed": 0, "batch_size": 1, "prefetch": False},
    "pool": {"envs": ["lis-length"]},
    "sandbox": {"name": "process", "workers": 1},
    "controller": {"name": "scaler", "k": 2.0, "step_cap": 1.0},
    "curation": {"name": "scaler-window", "window": 1},
    "trainer": {"name": "simulate", "rollouts": 2},
}


@CLI
@given(mutated(RUN_SEED).map(lambda data: toml_text(data).encode()))
@example(toml_text({**RUN_SEED, "sandbox": {"name": "process", "bogus": 1}}).encode())
@example(toml_text({**RUN_SEED, "sandbox": {"name": "process", "workers": 0}}).encode())
@example(toml_text({**RUN_SEED, "controller": {"name": "scaler", "bogus": 1}}).encode())
@example(toml_text({**RUN_SEED, "controller": {"name": "scaler", "k": -1}}).encode())
@example(b"\x80[run]\n")  # UnicodeDecodeError out of tomllib
@example(toml_text({**RUN_SEED, "pool": {"envs": [" "]}}).encode())  # named no file
@example(toml_text({**RUN_SEED, "curation": {"name": "nope"}}).encode())  # named no file
def test_run_with_any_config_starts_or_exits_2_leaving_no_run(content: bytes) -> None:
    with file_holding(content, "run.toml") as config:
        directory = config.parent / "run"
        with mock.patch.object(Run, "execute", side_effect=Accepted):
            try:
                code, _, err = scaler("run", str(config), "--out", str(directory))
            except Accepted:
                assert (directory / "config.json").is_file()
                return
        assert refused(code, err, str(config)), err
        assert not directory.exists(), "a refused config leaves no run directory"
        table = re.search(r"field '([^'.]*)", err)
        assert table is None or "unknown table" in err or table.group(1) in RUN_TABLES, err


LEVEL_PIECES = ("0", "3", "12", ",", " ", "-1", "1" * 5000, "a", "1.5", "٣", "", "_", "+2")


@given(st.lists(st.sampled_from(LEVEL_PIECES), max_size=8).map("".join))
def test_levels_option_is_levels_or_a_bad_parameter(text: str) -> None:
    try:
        levels = parse_levels(text)
    except click.BadParameter as exc:
        assert exc.param_hint == "--levels"
        return
    assert levels is None or levels == sorted(set(levels))


OPTION_NAMES = [name for name in inspect.signature(OpenAIPolicy).parameters if name != "model"] + [
    "unknown",
    "",
]
option_values = st.one_of(
    junk().map(lambda value: json_bytes(value, True).decode()),
    st.sampled_from(["http://localhost:1", "abc", "", "[" * 5000, "1" * 400, "1e400", "NaN"]),
)
option_pairs = st.lists(
    st.tuples(st.sampled_from(OPTION_NAMES), st.sampled_from(["=", ":", ""]), option_values).map(
        "".join
    ),
    max_size=5,
)


@given(option_pairs)
@example(["timeout_s=1" + "0" * 400])  # OverflowError in the number check
@example(["base_url=5"])  # AttributeError: 'int' object has no attribute 'strip'
@example(["extra_body=" + "[" * 5000])  # RecursionError out of json.loads
def test_policy_options_make_a_policy_or_a_located_error(pairs: list[str]) -> None:
    """``scaler eval openai:M --policy-option K=V``: what ``eval`` does with the pairs."""
    try:
        options = key_values(pairs, "--policy-option")
    except click.BadParameter as exc:
        assert exc.param_hint == "--policy-option"
        return
    try:
        OpenAIPolicy("model", **options)
    except TypeError as exc:  # eval answers an unknown option with a BadParameter
        assert "argument" in str(exc)
    except ScalerError as exc:
        assert "field '" in str(exc)


@given(
    st.lists(st.sampled_from(["openai", "replay", ":", "Qwen/Qwen3", "", " ", "a:b"])).map("".join)
)
def test_llm_spec_is_name_and_model_or_an_error(spec: str) -> None:
    try:
        name, model = parse_llm_spec(spec)
    except ScalerError as exc:
        assert repr(spec) in str(exc)
        return
    assert name and model and f"{name}:{model}" == spec

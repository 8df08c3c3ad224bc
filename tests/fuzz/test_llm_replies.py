"""LLM replies to the extraction and generator stages, and recordings of them.

A reply is the model's free text: the stage either gets what it asked for, or ``Malformed``,
which the pipeline answers by asking again. Anything else escaped the retry loop and failed
the problem with a traceback in the log. What a stage accepts must also be usable by the next
one: scale parameters that calibration can compute, a generator that is a Python function of
two arguments. A recording (``--llm replay:FILE``) is a file a user hands over, so its errors
are ScalerErrors naming the file and the line.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import example, given
from hypothesis import strategies as st

from scaler.errors import ScalerError
from scaler.levels import offset_range, with_bases
from scaler.model import Program
from scaler.synth.extract import OUTPUT_TYPES, Malformed, Meta, parse_meta
from scaler.synth.generate import parse_generator
from scaler.synth.llm import read_recording
from tests.conftest import ROOT
from tests.fuzz.strategies import damaged, file_holding, json_bytes, mutated, one_of_seeds

Parsed = TypeVar("Parsed")
RECORDINGS = ROOT / "tests" / "fixtures" / "synth" / "recordings.jsonl"
RECORDED = [json.loads(line) for line in RECORDINGS.read_text(encoding="utf-8").splitlines()]
EXTRACT_REPLIES = [r["response"] for r in RECORDED if r["stage"] == "extract"]
GENERATOR_REPLIES = [r["response"] for r in RECORDED if r["stage"] in ("generator", "repair")]
#: The objects inside the extraction replies that hold one, for structural mutations.
EXTRACT_OBJECTS = [
    json.loads(reply[reply.index("{") : reply.rindex("}") + 1])
    for reply in EXTRACT_REPLIES
    if "{" in reply
]


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def damaged_reply(reply: str) -> st.SearchStrategy[str]:
    return damaged(reply.encode()).map(_text)


@st.composite
def wrapped(draw: st.DrawFn, data: Any) -> str:
    """A JSON value the way models present one: bare, fenced, or with prose that has braces."""
    body = _text(json_bytes(data, draw(st.booleans())))
    return draw(
        st.sampled_from(
            [
                body,
                f"```json\n{body}\n```",
                f"Here it is {{as asked}}:\n```\n{body}\n```\nDone.",
                f"{body}\n\nNote: n is {{the size}}.",
            ]
        )
    )


extraction_replies = st.one_of(
    one_of_seeds(EXTRACT_REPLIES).flatmap(damaged_reply),
    one_of_seeds(EXTRACT_OBJECTS).flatmap(mutated).flatmap(wrapped),
)


def parsed(parse: Callable[[str], Parsed], reply: str) -> Parsed | None:
    """What the stage makes of the reply, or None where it is Malformed (with a reason)."""
    try:
        return parse(reply)
    except Malformed as exc:
        assert str(exc).strip()
        return None


def assert_usable_meta(meta: Meta) -> None:
    """Calibration runs on what extraction accepts: bases and the offset range must compute."""
    assert meta.output_type in OUTPUT_TYPES and isinstance(meta.is_output_unique, bool)
    for param in with_bases(meta.scale_params):
        assert param.name.isidentifier() and param.min <= param.max
        assert isinstance(param.value_at(offset_range(meta.scale_params)), int)


@given(extraction_replies)
@example(  # accepted; calibration then raised OverflowError
    json.dumps(
        {
            "scale_params": {"n": {"min": 10**400, "max": 10**400}},
            "output_type": "number",
            "is_output_unique": True,
        }
    )
)
@example('{"a": ' + "[" * 20_000 + "}")  # RecursionError out of json.loads
def test_extraction_reply_is_meta_or_malformed(reply: str) -> None:
    meta = parsed(parse_meta, reply)
    if meta is not None:
        assert_usable_meta(meta)


#: Code that parsers choke on in ways other than a SyntaxError.
HOSTILE_CODE = (
    "\x00",
    "-" * 100_000 + "1",
    "1+" * 50_000 + "1",
    "(" * 300 + ")" * 300,
    "def generate(params, rng, extra):\n    return '', {}\n",
    "async def generate(params, rng):\n    return '', {}\n",
    "generate = lambda params, rng: ('', {})\n",
    "def generate(params, /, rng):\n    return '', {}\n",
)


@st.composite
def generator_replies(draw: st.DrawFn) -> str:
    reply = draw(one_of_seeds(GENERATOR_REPLIES))
    operation = draw(st.sampled_from(["damage", "insert", "fence", "double"]))
    if operation == "damage":
        return draw(damaged_reply(reply))
    if operation == "insert":
        at = draw(st.integers(0, len(reply)))
        snippet = HOSTILE_CODE[draw(st.integers(0, len(HOSTILE_CODE) - 1))]
        return reply[:at] + snippet + reply[at:]
    if operation == "fence":
        return reply.replace("```python", draw(st.sampled_from(["```py", "```", "``` python"])))
    return reply + "\n" + reply


@given(generator_replies())
@example("```python\n" + "-" * 100_000 + "1\n```")  # MemoryError out of ast.parse
@example("```python\n" + "1+" * 50_000 + "1\n```")  # RecursionError out of ast.parse
@example("```python\ndef generate(params, rng):\x00\n```")  # a ValueError on Python 3.10
def test_generator_reply_is_a_program_or_malformed(reply: str) -> None:
    program = parsed(parse_generator, reply)
    if program is None:
        return
    assert isinstance(program, Program) and program.language == "python"
    functions = [
        node for node in ast.parse(program.source).body if isinstance(node, ast.FunctionDef)
    ]
    assert any(f.name == "generate" and len(f.args.args) == 2 for f in functions)


recording_files = st.lists(
    one_of_seeds(RECORDED).flatmap(mutated).map(lambda line: json_bytes(line, True)),
    min_size=1,
    max_size=4,
).map(b"\n".join)


@given(recording_files | recording_files.flatmap(damaged))
@example(b"\x80{}")  # UnicodeDecodeError
@example(b"[" * 20_000)  # RecursionError
def test_recording_is_answers_or_names_file_and_line(content: bytes) -> None:
    with file_holding(content, "recording.jsonl") as path:
        try:
            answers = read_recording(path)
        except ScalerError as exc:
            assert str(exc).startswith(f"{path}")
            return
        for (problem_id, stage, attempt), completion in answers.items():
            assert isinstance(problem_id, str) and isinstance(attempt, int) and attempt >= 0
            assert stage in ("extract", "generator", "repair")
            assert isinstance(completion.text, str)

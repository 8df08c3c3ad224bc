from __future__ import annotations

import pytest

from scaler.model import Program, ScaleParam
from scaler.synth.extract import (
    Malformed,
    Meta,
    keep_rule,
    narrative,
    output_section,
    parse_meta,
    prefilter,
)
from scaler.synth.generate import parse_generator
from scaler.synth.problem import Declared, Problem

STATEMENT = """Count the pairs.

Input
The first line holds n (1 <= n <= 1000).

Output
Print one integer.

Examples
Input
3
Output
2
"""
GOOD = (
    '{"scale_params": {"n": {"min": 1, "max": 1000}}, '
    '"output_type": "number", "is_output_unique": true}'
)


def _problem(statement: str = STATEMENT, solutions: int = 3, **changes: object) -> Problem:
    programs = tuple(Program("python" if i % 2 else "cpp", f"src{i}") for i in range(solutions))
    return Problem("1_A. Pairs", "1_A. Pairs", statement, programs, "codecontests", **changes)


def test_prefilter_needs_an_input_section_and_three_solutions() -> None:
    assert prefilter(_problem())[1] is None
    assert "no Input section" in str(prefilter(_problem("Just a story."))[1])
    assert "2 C++ / Python 3 solutions" in str(prefilter(_problem(solutions=2))[1])
    java = _problem(solutions=0)
    java = Problem(java.id, java.name, STATEMENT, (Program("cpp", "a"),) * 12, "codecontests")
    kept, reason = prefilter(java)
    assert reason is None and len(kept.solutions) == 10


def test_sections() -> None:
    assert narrative(STATEMENT) == "Count the pairs."
    assert output_section(STATEMENT) == "Print one integer."


@pytest.mark.parametrize(
    "reply",
    [GOOD, f"Here it is:\n```json\n{GOOD}\n```\nDone.", f"Sure. {GOOD} Hope that helps."],
)
def test_parse_meta_accepts_the_object_with_prose_or_fences(reply: str) -> None:
    assert parse_meta(reply) == Meta((ScaleParam("n", 1, 1000),), "number", True)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("no json here", "no JSON object"),
        ('{"scale_params": {"n": {"min": 1, "max": 10}}, "output_type": "number"', "invalid JSON"),
        ('{"scale_params": {}, "output_type": "number", "is_output_unique": true, "x": 1}',
         "unexpected x"),
        ('{"scale_params": {"n": {"min": "1", "max": 10}}, "output_type": "number", '
         '"is_output_unique": true}', "must be integers"),
        ('{"scale_params": {"n": {"min": 5, "max": 1}}, "output_type": "number", '
         '"is_output_unique": true}', "above max"),
        ('{"scale_params": {"n": {"min": 1, "max": 2}}, "output_type": "tree", '
         '"is_output_unique": true}', "output_type 'tree'"),
        ('{"scale_params": {"n": {"min": 1, "max": 2}}, "output_type": "number", '
         '"is_output_unique": "yes"}', "true or false"),
        ('{"scale_params": [1], "output_type": "number", "is_output_unique": true}',
         "must be an object"),
    ],
)  # fmt: skip
def test_parse_meta_refuses_malformed_replies(reply: str, message: str) -> None:
    with pytest.raises(Malformed, match=message):
        parse_meta(reply)


def test_keep_rules() -> None:
    problem = _problem()
    meta = parse_meta(GOOD)
    assert keep_rule(problem, meta) is None
    assert "output type 'graph'" in str(keep_rule(problem, Meta(meta.scale_params, "graph", True)))
    assert "not unique" in str(keep_rule(problem, Meta(meta.scale_params, "number", False)))
    assert "no scale parameter" in str(keep_rule(problem, Meta((), "number", True)))
    no_output = _problem("Story.\nInput\nn\n")
    assert "no Output section" in str(keep_rule(no_output, meta))
    declared = _problem("Story.\nInput\nn\n", declared=Declared(output_spec="Print it."))
    assert keep_rule(declared, meta) is None
    image = _problem(STATEMENT + "\n<image>\n")
    assert "image" in str(keep_rule(image, meta))


def test_parse_generator() -> None:
    code = "def generate(params, rng):\n    return '1\\n', {}\n"
    assert parse_generator(f"Here:\n```python\n{code}```\n").source == code
    for reply, message in [
        ("no code", "no ```python block"),
        (f"```python\n{code}```\n```python\n{code}```", "2 code blocks"),
        ("```python\ndef generate(params):\n    pass\n```", "generate\\(params, rng\\)"),
        ("```python\ndef generate(params, rng)\n```", "does not parse"),
    ]:
        with pytest.raises(Malformed, match=message):
            parse_generator(reply)

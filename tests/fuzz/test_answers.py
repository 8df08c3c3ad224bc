"""Boxed answers: ``\\boxed{}`` extraction, the typed verifiers, and the benchmark scorer.

These read what a policy wrote, so every input is possible and none may raise: a reward
function that raises on a strange answer stops a training run, where it should score -1. The
reference answer, boxed, must score right, or a model that is right is trained away from it.
"""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from scaler.evaluate.answers import KINDS, equivalent, kind_for
from scaler.model import Verdict
from scaler.plugins import Plugins
from scaler.verify import canonical_answer, extract_boxed, parse_number, verify

PLUGINS = Plugins.load(environ={})

#: The pieces answers are made of, LaTeX that the parsers treat specially included.
PIECES = (
    "\\boxed{",
    "\\boxed {",
    "\\fbox{",
    "{",
    "}",
    "\\",
    "$",
    " ",
    ",",
    "-",
    "+",
    ".",
    "/",
    "e",
    "0",
    "7",
    "42",
    "1" * 400,
    "1e400",
    "nan",
    "inf",
    "\\frac{1}{2}",
    "\\frac{1}{0}",
    "\\dfrac",
    "\\text{",
    "\\left(",
    "\\right)",
    "\\sqrt2",
    "^\\circ",
    "x=",
    "(B)",
    "answer is C",
    "[",
    "]",
    "\\,",
    "%",
    "\n",
    "\x00",
    "\ud800",
)

answers = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=24).map("".join)


def scanned_boxed(text: str) -> str | None:
    """The plain definition, scanning on from each box, last box first: what the one-pass
    ``extract_boxed`` must agree with."""
    for match in reversed(list(re.finditer(r"\\(?:boxed|fbox)\s*\{", text))):
        depth = 1
        for index in range(match.end(), len(text)):
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            if depth == 0:
                return text[match.end() : index].strip()
    return None


@given(answers)
def test_extract_boxed_is_the_content_of_a_complete_box(text: str) -> None:
    found = extract_boxed(text)
    assert found == scanned_boxed(text)
    if found is None:
        return
    assert found in text
    depth = 0
    for char in found:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0


def test_extract_boxed_takes_linear_time_on_a_degenerate_rollout() -> None:
    """Thousands of unclosed boxes: scanning on from each one took minutes for this input."""
    assert extract_boxed("\\boxed{" * 50_000) is None


number_truths = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**400), 10**400).map(str),
    st.fractions().map(str),
)
array_truths = st.lists(number_truths, max_size=6).map(" ".join)
string_truths = st.text(
    st.characters(exclude_categories=("Cs", "Zs", "Cc"), exclude_characters="{}$\\"),
    min_size=1,
    max_size=12,
)
typed_truths = st.one_of(
    st.tuples(st.just("number"), number_truths),
    st.tuples(st.just("array"), array_truths),
    st.tuples(st.just("string"), string_truths),
).map(lambda pair: (pair[0], canonical_answer(pair[0], pair[1])))


def checked_verdict(response: str, output_type: str, answer: str) -> Verdict:
    verdict = verify(response, {"output_type": output_type, "answer": answer}, PLUGINS)
    assert isinstance(verdict.correct, bool) and verdict.reason
    return verdict


@given(typed_truths, answers)
@example(("number", "1.5"), "\\boxed{" + "1" * 400 + "}")  # OverflowError in numbers_equal
@example(("array", "[1.5]"), "\\boxed{[" + "9" * 400 + "]}")  # the same, per element
def test_verify_scores_any_response_and_the_truth_right(
    typed: tuple[str, str], response: str
) -> None:
    output_type, answer = typed
    checked_verdict(response, output_type, answer)
    checked_verdict(f"\\boxed{{{response}}}", output_type, answer)
    assert checked_verdict(f"so \\boxed{{{answer}}}.", output_type, answer).correct


benchmark_truths = st.one_of(
    answers,
    st.sampled_from(["\\boxed{D}", "(E)", "150, 1", "\\frac{11}{36}", "145^\\circ", "27.0"]),
    number_truths,
)


@given(benchmark_truths, answers, st.sampled_from(KINDS))
@example("1.5", "9" * 400, "math")  # OverflowError in the fallback's numbers_equal
@example("0.5", "9" * 400, "exact")  # the same in the exact match's number comparison
def test_equivalent_answers_a_bool_for_any_prediction(
    truth: str, prediction: str, kind: str
) -> None:
    assert isinstance(equivalent(prediction, truth, kind), bool)
    assert isinstance(equivalent(truth, prediction, kind), bool)


@given(st.text(max_size=20) | st.sampled_from(["think_MATH-500", "option_GPQA", "bbeh"]), answers)
def test_kind_for_is_a_known_kind(source: str, truth: str) -> None:
    kind = kind_for(source, truth)
    assert kind in KINDS
    if kind == "math" and parse_number(truth) is not None:
        assert equivalent(truth, truth, kind)

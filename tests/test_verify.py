from __future__ import annotations

import pytest

from scaler.model import Instance
from scaler.plugins import Plugins
from scaler.verify import compute_score, extract_boxed, verify


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the answer is \\boxed{42}", "42"),
        ("\\boxed{1} then \\boxed{2}", "2"),
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("\\boxed {[1, 2, {3}]}", "[1, 2, {3}]"),
        ("\\boxed{7} and a broken \\boxed{8", "7"),
        ("\\fbox{ab}", "ab"),
        ("no box here: 42", None),
        ("\\boxed{unclosed", None),
    ],
)
def test_extract_last_box(text: str, expected: str | None) -> None:
    assert extract_boxed(text) == expected


def extra(output_type: str, answer: str) -> dict[str, str]:
    return {"output_type": output_type, "answer": answer}


@pytest.mark.parametrize(
    ("output_type", "answer", "response", "correct"),
    [
        ("number", "42", "\\boxed{42}", True),
        ("number", "42", "\\boxed{ 42.0 }", True),
        ("number", "42", "\\boxed{$42$}", True),
        ("number", "42", "\\boxed{43}", False),
        ("number", "3.14159265", "\\boxed{3.141592651}", True),
        ("number", "3.14159265", "\\boxed{3.1416}", False),
        ("number", "1e12", "\\boxed{1000000000000.00001}", True),
        ("number", "0.5", "\\boxed{\\frac{1}{2}}", True),
        ("number", "12345678901234567891", "\\boxed{12345678901234567890}", False),
        ("number", "-7", "\\boxed{\\text{-7}}", True),
        ("number", "7", "\\boxed{seven}", False),
        ("array", "[1, 2, 3]", "\\boxed{[1, 2, 3]}", True),
        ("array", "[1, 2, 3]", "\\boxed{1 2 3}", True),
        ("array", "[1, 2, 3]", "\\boxed{(1,2,3)}", True),
        ("array", "[1, 2, 3]", "\\boxed{[1, 3, 2]}", False),
        ("array", "[1, 2, 3]", "\\boxed{[1, 2]}", False),
        ("array", "[0.1, 2]", "\\boxed{[0.10000000001, 2]}", True),
        ("array", "[1, 2]", "\\boxed{[1, x]}", False),
        ("string", "0110000001", "\\boxed{ 0110000001 }", True),
        ("string", "YES", "\\boxed{\\text{YES}}", True),
        ("string", "YES", "\\boxed{yes}", False),
    ],
)
def test_typed_comparison(
    plugins: Plugins, output_type: str, answer: str, response: str, correct: bool
) -> None:
    assert verify(response, extra(output_type, answer), plugins).correct is correct


def test_no_box_is_wrong_with_a_reason(plugins: Plugins) -> None:
    verdict = verify("I think it is 42", extra("number", "42"), plugins)
    assert (verdict.correct, verdict.extracted, verdict.score) == (False, None, -1.0)
    assert "no \\boxed" in verdict.reason


def test_compute_score_shape(plugins: Plugins) -> None:
    instance = Instance(
        env_id="e",
        env_version="v",
        level=0,
        seed=0,
        params={},
        stdin="",
        shown_input={},
        answer="[1, 2]",
        output_type="array",
        messages=(),
    )
    assert compute_score("\\boxed{[1,2]}", instance, plugins) == {
        "score": 1.0,
        "acc": 1.0,
        "pred": "[1,2]",
    }
    assert compute_score("\\boxed{[2,1]}", instance, plugins)["score"] == -1.0


def test_unknown_output_type_is_named(plugins: Plugins) -> None:
    from scaler.errors import UnknownName

    with pytest.raises(UnknownName, match="'graph'"):
        verify("\\boxed{1}", extra("graph", "1"), plugins)

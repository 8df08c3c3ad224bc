from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scaler.errors import ScalerError
from scaler.evaluate.answers import equivalent, kind_for, math_verify_available
from scaler.evaluate.benchmarks import Benchmark, load_benchmark
from tests.conftest import SHARED, require_shared

EVAL = SHARED / "data" / "eval"

#: Distinct questions (after folding the x16 repeats), rows in the file, and the benchmark name.
EXPECTED = {
    "think_MATH-500_MATH-500-processed.parquet": ("MATH-500", 500, 500),
    "think_aime24_aime24_test.parquet": ("aime24", 30, 480),
    "think_amc23_amc23_test.parquet": ("amc23", 40, 640),
    "MMLU-Pro-Valid.parquet": ("MMLU-Pro", 70, 1120),
    "bbeh_data.parquet": ("bbeh", 460, 460),
    "GPQA-Diamond-Test.parquet": ("GPQA-Diamond", 198, 198),
}


def _files() -> list[str]:
    present = sorted(p.name for p in EVAL.glob("*.parquet")) if EVAL.is_dir() else []
    return present or ["(no evaluation data)"]


@pytest.fixture(params=["math_verify", "fallback"])
def path_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each answer test runs with math-verify (where installed) and with the fallback alone."""
    if request.param == "math_verify":
        if not math_verify_available():
            pytest.skip("math-verify is not installed: pip install math-verify")
    else:
        monkeypatch.setitem(sys.modules, "math_verify", None)  # import raises ImportError
    return str(request.param)


def _load(name: str) -> Benchmark:
    require_shared(EVAL)
    if name not in EXPECTED:
        pytest.fail(f"{name}: a new evaluation file; add its expected counts to EXPECTED")
    return load_benchmark(require_shared(EVAL / name))


@pytest.mark.parametrize("name", _files())
def test_every_eval_file_loads_with_its_question_count(name: str) -> None:
    bench = _load(name)
    title, questions, rows = EXPECTED[name]
    assert bench.name == title
    assert len(bench.rows) == rows
    items = bench.items
    assert len(items) == questions
    assert sum(item.repeats for item in items) == rows
    assert {item.repeats for item in items} == {rows // questions}


@pytest.mark.parametrize("name", _files())
def test_every_reference_answer_scores_right_and_a_wrong_one_wrong(
    name: str, path_kind: str
) -> None:
    bench = _load(name)
    for item in bench.items:
        truth = item.ground_truth
        boxed = truth if truth.startswith("\\boxed") else f"\\boxed{{{truth}}}"
        response = f"Reasoning ... so the final answer is {boxed}."
        assert equivalent(response, truth, item.kind), (item.index, truth)
        wrong = {"choice": "\\boxed{Z}", "exact": "\\boxed{not the answer}"}.get(
            item.kind, "\\boxed{123456789.5}"
        )
        assert not equivalent(wrong, truth, item.kind), (item.index, truth)


# (file, a real row's ground truth, right responses, wrong responses)
REAL = [
    ("think_aime24_aime24_test.parquet", "\\boxed{204}", ["204", "\\boxed{204}"], ["205", ""]),
    ("think_amc23_amc23_test.parquet", "\\boxed{27.0}", ["27", "\\boxed{27}"], ["72", "2.7"]),
    (
        "think_MATH-500_MATH-500-processed.parquet",
        "\\boxed{\\frac{11}{2}}",
        ["5.5", "11/2", "\\dfrac{11}{2}", "$\\frac{11}{2}$"],
        ["\\frac{2}{11}", "5"],
    ),
    (
        "think_MATH-500_MATH-500-processed.parquet",
        "\\boxed{90^\\circ}",
        ["90", "\\boxed{90^{\\circ}}", "90 degrees"],
        ["45^\\circ", "9"],
    ),
    (
        "think_MATH-500_MATH-500-processed.parquet",
        "\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}",
        ["(3, \\frac{\\pi}{2})", "\\left(3,\\frac{\\pi}{2}\\right)"],
        ["(3, \\pi)", "3"],
    ),
    ("MMLU-Pro-Valid.parquet", "\\boxed{A}", ["A", "(A)", "A)", "a.", "\\text{(A)}"], ["B"]),
    (
        "GPQA-Diamond-Test.parquet",
        "\\boxed{D}",
        ["\\boxed{D}", "\\text{D}", "The answer is D", "the answer is (d)"],
        ["C", "\\boxed{A}", "no idea"],
    ),
    ("bbeh_data.parquet", "pen", ["Pen.", "\\boxed{pen}", "\\text{pen}"], ["pencil"]),
    ("bbeh_data.parquet", "(B)", ["(B)", "b", "\\boxed{B}"], ["(C)", "A"]),
    ("bbeh_data.parquet", "yes, unknown, no", ["Yes,unknown, no"], ["yes, no, unknown"]),
    ("bbeh_data.parquet", "[thursday]", ["Thursday", "[Thursday]"], ["friday"]),
    ("bbeh_data.parquet", "418.0", ["418", "\\boxed{418}"], ["419"]),
]


@pytest.mark.parametrize(("name", "truth", "right", "wrong"), REAL)
def test_real_rows_score_known_answers(
    name: str, truth: str, right: list[str], wrong: list[str], path_kind: str
) -> None:
    item = next((i for i in _load(name).items if i.ground_truth == truth), None)
    assert item is not None, f"{name} has no row whose ground truth is {truth!r}"
    for response in right:
        assert equivalent(response, truth, item.kind), (response, truth, item.kind)
    for response in wrong:
        assert not equivalent(response, truth, item.kind), (response, truth, item.kind)


@pytest.mark.parametrize(
    ("prediction", "truth"),
    [
        ("0.5", "\\frac{1}{2}"),
        ("1/2", "\\frac{1}{2}"),
        ("\\boxed{0.5}", "1/2"),
        ("\\dfrac{3}{4}", "\\frac{3}{4}"),
        ("\\tfrac34", "0.75"),
        ("\\boxed{10^\\circ}", "10"),
        ("x=5", "5"),
        ("x = 5", "\\boxed{5}"),
        ("2\\sqrt3", "2\\sqrt{3}"),
        ("\\left[ 1, 2 \\right]", "[1,2]"),
        ("50\\%", "50"),
        ("\\text{(B)}", "(B)"),
        ("1,000", "1000"),
        ("-\\frac{1}{3}", "-1/3"),
    ],
)
def test_latex_forms_of_the_same_math_answer(prediction: str, truth: str, path_kind: str) -> None:
    assert equivalent(prediction, truth, "math")


@pytest.mark.parametrize(
    ("prediction", "truth"),
    [("0.5", "\\frac{1}{3}"), ("2\\sqrt{2}", "2\\sqrt{3}"), ("(1, 2)", "(2, 1)"), ("", "5")],
)
def test_different_math_answers_differ(prediction: str, truth: str, path_kind: str) -> None:
    assert not equivalent(prediction, truth, "math")


@pytest.mark.parametrize(
    "prediction", ["B", "(B)", "B)", "B.", "b", "\\text{B}", "\\text{(B)}", "The answer is B."]
)
def test_choice_letter_forms(prediction: str) -> None:
    assert equivalent(prediction, "\\boxed{B}", "choice")
    assert not equivalent(prediction, "\\boxed{C}", "choice")


@pytest.mark.parametrize(
    ("source", "truth", "kind"),
    [
        ("option_MMLU-Pro", "\\boxed{A}", "choice"),
        ("option_GPQA-Diamond", "\\boxed{J}", "choice"),
        ("think_MATH-500", "\\boxed{\\frac{1}{2}}", "math"),
        ("think_aime24", "\\boxed{204}", "math"),
        ("think_amc23", "\\boxed{27.0}", "math"),
        ("bbeh", "418.0", "math"),
        ("bbeh", "-11", "math"),
        ("bbeh", "(B)", "exact"),
        ("bbeh", "yes, no, yes", "exact"),
        ("bbeh", "150, 2", "exact"),
        ("something-else", "C", "choice"),
    ],
)
def test_kind_for(source: str, truth: str, kind: str) -> None:
    assert kind_for(source, truth) == kind


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown answer kind"):
        equivalent("1", "1", "fuzzy")


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _good(question: str = "1+1?", truth: str = "\\boxed{2}") -> dict[str, object]:
    return {
        "data_source": "think_toy",
        "prompt": [{"role": "user", "content": question}],
        "reward_model": {"ground_truth": truth},
        "extra_info": {"index": 0},
    }


def test_bad_rows_are_named_by_file_row_and_field(tmp_path: Path) -> None:
    no_truth = _good() | {"reward_model": {"ground_truth": ""}}
    no_user = _good() | {"prompt": [{"role": "system", "content": "hi"}]}
    path = _write(tmp_path / "bad.parquet", [_good(), no_truth, no_user])
    with pytest.raises(ScalerError) as caught:
        load_benchmark(path)
    message = str(caught.value)
    assert f"{path}, row 1, field 'reward_model.ground_truth'" in message
    assert f"{path}, row 2, field 'prompt': has no user message" in message
    assert "row 0" not in message


def test_missing_columns_and_unreadable_files_are_errors(tmp_path: Path) -> None:
    path = _write(tmp_path / "cols.parquet", [{"data_source": "x", "prompt": "p"}])
    with pytest.raises(ScalerError, match=r"missing column.*reward_model"):
        load_benchmark(path)
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(ScalerError, match="not a readable parquet"):
        load_benchmark(junk)
    with pytest.raises(ScalerError, match="no such benchmark file"):
        load_benchmark(tmp_path / "absent.parquet")


def test_repeats_fold_but_a_repeated_prompt_with_another_answer_does_not(tmp_path: Path) -> None:
    rows = [_good()] * 3 + [_good("2+2?", "\\boxed{4}")] * 2 + [_good("2+2?", "\\boxed{5}")]
    bench = load_benchmark(_write(tmp_path / "toy.parquet", rows))
    assert bench.name == "toy"
    assert [(i.ground_truth, i.repeats, i.rows) for i in bench.items] == [
        ("\\boxed{2}", 3, (0, 1, 2)),
        ("\\boxed{4}", 2, (3, 4)),
        ("\\boxed{5}", 1, (5,)),
    ]

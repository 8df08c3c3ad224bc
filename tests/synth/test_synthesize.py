"""``synthesize`` and ``Synthesis`` called from Python, offline, on a few fixture problems.

The LLM's answers are **recordings**, not a model: tests/fixtures/synth/recordings.jsonl,
hand-written in the format ``--record`` writes (tests/fixtures/synth/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scaler.errors import ScalerError, UnknownName
from scaler.plugins import Plugins
from scaler.pool import load_pool
from scaler.synth.checks import CheckSettings
from scaler.synth.llm import ReplayClient
from scaler.synth.pipeline import Outcome, SynthSettings
from scaler.synth.synthesize import Synthesis, synthesize
from tests.synth.test_pipeline import EXPECTED, PROBLEMS, RECORDINGS

#: Accepted; rejected at extraction after two malformed replies; rejected by the pre-filter.
PICKED = ("1001_A. Best Segment", "1001_F. Lantern Festival", "1002_D. Stone Pyramid")
#: Fewer breadth trials and depth runs than the method's 100, to keep the test quick.
QUICK = CheckSettings(trials=20, depth_runs=20)


def problems_file(directory: Path, names: tuple[str, ...]) -> Path:
    """The fixture problems named, in the fixture's order, as a file of their own."""
    lines = [
        line for line in PROBLEMS.read_text().splitlines() if json.loads(line)["name"] in names
    ]
    path = directory / "problems.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_synthesize_returns_the_outcomes_and_a_rerun_resumes(
    sandbox: Any, plugins: Plugins, tmp_path: Path
) -> None:
    problems = problems_file(tmp_path, PICKED)
    pool = tmp_path / "pool.jsonl"
    heard: list[Outcome] = []

    result = synthesize(
        [problems],
        pool,
        plugins,
        sandbox,
        llm=f"replay:{RECORDINGS}",
        check_settings=QUICK,
        on_outcome=heard.append,
    )

    assert [o.problem_id for o in result.outcomes] == list(PICKED)
    assert sorted(o.problem_id for o in heard) == sorted(PICKED)
    assert (result.pool, result.journal) == (pool, tmp_path / "pool.journal.jsonl")
    (accepted,) = result.accepted
    assert accepted.env is not None and accepted.problem_id == PICKED[0]
    assert load_pool(pool) == [accepted.env]
    for outcome in result.rejected:
        expected = EXPECTED[outcome.problem_id]
        assert outcome.stage == expected["stage"] and expected["reason"] in outcome.reason
    assert result.failed == () and result.skipped == () and result.resumed == 0
    assert result.llm_calls == sum(EXPECTED[name]["llm_calls"] for name in PICKED)
    summary = result.to_dict()
    assert (summary["pool"], summary["accepted"], len(summary["rejected"])) == (str(pool), 1, 2)

    before = pool.read_bytes()
    again = synthesize(
        [problems], pool, plugins, sandbox, llm=f"replay:{RECORDINGS}", check_settings=QUICK
    )
    assert (again.resumed, again.llm_calls) == (len(PICKED), 0)
    assert [o.env for o in again.accepted] == [accepted.env]
    assert pool.read_bytes() == before


class Given(ReplayClient):
    """A client the caller made: answers from the recordings, and says whether it was closed."""

    closed = False

    def close(self) -> None:
        self.closed = True


def test_a_given_client_is_asked_recorded_and_left_open(
    sandbox: Any, plugins: Plugins, tmp_path: Path
) -> None:
    problems = problems_file(tmp_path, ("1001_F. Lantern Festival",))
    client = Given(str(RECORDINGS))
    answers = tmp_path / "answers.jsonl"
    with Synthesis(
        [problems], tmp_path / "pool.jsonl", plugins, llm=client, record=answers
    ) as synthesis:
        assert [p.id for p in synthesis.problems] == ["1001_F. Lantern Festival"]
        result = synthesis.run(sandbox)
    assert not client.closed
    assert result.llm_calls == 2 and len(answers.read_text().splitlines()) == 2
    assert result.pool.read_text() == ""


def test_bad_input_is_refused_before_any_file_is_written(plugins: Plugins, tmp_path: Path) -> None:
    problems = problems_file(tmp_path, PICKED)
    pool = tmp_path / "pool.jsonl"
    with pytest.raises(UnknownName, match="nosuch"):
        Synthesis([problems], pool, plugins, settings=SynthSettings(checks=("breadth", "nosuch")))
    with pytest.raises(UnknownName, match="nosuch"):
        Synthesis([problems], pool, plugins, settings=SynthSettings(generator="nosuch"))
    with pytest.raises(ScalerError, match="client made by name"):
        Synthesis([problems], pool, plugins, llm=Given(str(RECORDINGS)), llm_options={"x": 1})
    assert list(tmp_path.iterdir()) == [problems]


def test_the_pools_directory_is_made_and_a_file_in_its_way_named(
    plugins: Plugins, tmp_path: Path
) -> None:
    problems = problems_file(tmp_path, PICKED)
    nested = tmp_path / "runs" / "today" / "pool.jsonl"
    with Synthesis([problems], nested, plugins):
        pass
    assert (nested.parent / "pool.journal.jsonl").exists()
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ScalerError, match=r"file/pool.jsonl: cannot make its directory"):
        Synthesis([problems], blocker / "pool.jsonl", plugins)

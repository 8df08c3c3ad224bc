"""Problem files for ``scaler synth``: CodeContests JSON Lines and the official SCALER JSON.

A source names every record it cannot use and never fails the whole read for one; only a file
that cannot be read at all is a PoolError naming it. A problem it does return is journaled and
keyed by its id, so it must encode as UTF-8 JSON, and what it declares must be in range.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from scaler.errors import PoolError
from scaler.synth.problem import Problem, SourceResult
from scaler.synth.sources import CodeContestsSource, OfficialSource
from tests.conftest import ROOT
from tests.fuzz.seeds import OFFICIAL_SEEDS
from tests.fuzz.strategies import damaged, file_holding, json_bytes, json_document, one_of_seeds
from tests.test_official_pool import _entry

PROBLEMS = ROOT / "tests" / "fixtures" / "synth" / "problems.jsonl"
CODECONTESTS_SEEDS = [json.loads(line) for line in PROBLEMS.read_text().splitlines()[:4]]
OFFICIAL_ENTRY = _entry(raw_description="Toy.\n\nInput\n\nn.\n\nOutput\n\nOne integer.")


def assert_usable(problem: Problem) -> None:
    json.dumps(problem.to_dict(), ensure_ascii=False, allow_nan=False).encode("utf-8")
    assert problem.id and all(s.language in ("python", "cpp") for s in problem.solutions)
    declared = problem.declared
    if declared is not None and declared.levels is not None:
        assert all(isinstance(level, int) and level >= 0 for level in declared.levels)


def read(source: Any, name: str, content: bytes) -> SourceResult | None:
    with file_holding(content, name) as path:
        try:
            result = source.read(path)
        except PoolError as exc:
            assert exc.path == str(path)
            return None
    for problem in result.problems:
        assert_usable(problem)
    assert all(rejection.where and rejection.reason for rejection in result.rejected)
    return result


codecontests_files = st.lists(
    one_of_seeds(CODECONTESTS_SEEDS).flatmap(json_document), min_size=1, max_size=3
).map(b"\n".join)


@given(codecontests_files | codecontests_files.flatmap(damaged))
@example(b"[" * 20_000)  # RecursionError out of json.loads
@example(json_bytes({**CODECONTESTS_SEEDS[0], "name": "\ud800"}, True))  # an id no file can hold
def test_codecontests_file_is_problems_and_rejections(content: bytes) -> None:
    read(CodeContestsSource(), "problems.jsonl", content)


@given(one_of_seeds(OFFICIAL_SEEDS).flatmap(json_document))
@example(json_bytes({"k": OFFICIAL_ENTRY | {"difficulty_dict": {"0": float("inf")}}}, True))
@example(json_bytes({"k": OFFICIAL_ENTRY | {"difficulty_dict": {"0": -3}}}, True))
@example(b"[" * 20_000)  # RecursionError out of json.loads
def test_official_file_is_problems_and_rejections(content: bytes) -> None:
    read(OfficialSource(), "official.json", content)

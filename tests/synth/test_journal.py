from __future__ import annotations

from pathlib import Path

import pytest

from scaler.errors import ScalerError
from scaler.synth.journal import Journal


def test_events_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.record_llm("p1", "extract", 0, "answer", prompt_tokens=10, completion_tokens=None)
    journal.record_checks("p1", "abc", [{"check": "min", "ok": True}])
    journal.record_final({"problem_id": "p2", "event": "rejected", "stage": "prefilter"})
    journal.close()
    again = Journal(path)
    assert again.llm("p1", "extract", 0) == "answer"
    assert again.llm("p1", "extract", 1) is None
    assert again.checks("p1", "abc") == [{"check": "min", "ok": True}]
    assert again.final("p2") == {"problem_id": "p2", "event": "rejected", "stage": "prefilter"}
    assert again.final("p1") is None
    again.close()


def test_a_torn_last_line_is_dropped_and_appends_go_on(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.record_llm("p1", "extract", 0, "answer")
    journal.close()
    with path.open("a") as handle:
        handle.write('{"problem_id": "p1", "event": "llm", "stage": "gen')
    again = Journal(path)
    assert again.torn and again.llm("p1", "extract", 0) == "answer"
    again.record_llm("p1", "generator", 0, "code")
    again.close()
    third = Journal(path)
    assert not third.torn and third.llm("p1", "generator", 0) == "code"
    third.close()


def test_damage_before_the_last_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('not json\n{"problem_id": "p", "event": "rejected"}\n')
    with pytest.raises(ScalerError, match="line 1: the journal is damaged"):
        Journal(path)


def test_only_final_events_are_final(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    with pytest.raises(ValueError, match="not a final event"):
        journal.record_final({"problem_id": "p", "event": "llm"})
    journal.close()

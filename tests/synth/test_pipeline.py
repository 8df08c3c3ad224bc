"""`scaler synth` end to end on the fixtures, offline: the LLM's answers are recordings
(tests/fixtures/synth/recordings.jsonl, hand-written in the format `--record` writes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "synth"
PROBLEMS = FIXTURES / "problems.jsonl"
RECORDINGS = FIXTURES / "recordings.jsonl"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text())
#: Fewer breadth trials and depth runs than the method's 100, to keep the suite quick.
FAST = ("--trials", "20", "--backend", "process", "--workers", "3")

COUNTED = """
import os
from scaler import hookimpl
from scaler.synth.llm import ReplayClient


class Counted(ReplayClient):
    def complete(self, request):
        with open(os.environ["SCALER_TEST_COUNTER"], "a") as handle:
            handle.write(f"{request.problem_id}|{request.stage}|{request.attempt}\\n")
        return super().complete(request)


@hookimpl
def scaler_register_llms(register):
    register("counted", Counted)
"""


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One uninterrupted run of the fixtures, shared by the tests that read its outcome."""
    out = tmp_path_factory.mktemp("synth") / "pool.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "scaler", "synth", str(PROBLEMS), "-o", str(out),
         "--llm", f"replay:{RECORDINGS}", *FAST, "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads(done.stdout)


def test_the_expected_pool_and_rejections(synthesized: tuple[Path, dict[str, Any]]) -> None:
    out, summary = synthesized
    accepted = [name for name, e in EXPECTED.items() if e["accepted"]]
    pool = [json.loads(line) for line in out.read_text().splitlines()]
    assert [env["name"] for env in pool] == accepted
    assert summary["accepted"] == len(accepted) and summary["failed"] == []
    rejected = {r["problem_id"]: r for r in summary["rejected"]}
    assert set(rejected) == {name for name, e in EXPECTED.items() if not e["accepted"]}
    for name, record in rejected.items():
        expected = EXPECTED[name]
        assert record["stage"] == expected["stage"], name
        assert expected["reason"] in record["reason"], (name, record["reason"])
        assert record.get("check", "") == expected.get("check", ""), name
    for name, expected in EXPECTED.items():
        made = next((r["llm_calls"] for r in summary["rejected"] if r["problem_id"] == name), None)
        if made is not None:
            assert made == expected["llm_calls"], name
    assert summary["llm_calls"] == sum(e["llm_calls"] for e in EXPECTED.values())


def test_accepted_envs_are_calibrated_and_sample(
    synthesized: tuple[Path, dict[str, Any]], sandbox: Any, plugins: Any
) -> None:
    from scaler.instances import InstanceFactory
    from scaler.pool import load_pool
    from scaler.synth.checks import Candidate, CheckContext, budget

    envs = load_pool(synthesized[0])
    factory = InstanceFactory(sandbox, plugins)
    context = CheckContext(sandbox, plugins)
    for env in envs:
        assert len(env.levels) > 1 and env.levels[0] == 0
        assert env.provenance.source == "codecontests" and env.provenance.llm
        assert budget(Candidate.from_env(env), context).ok, env.id
        (top,) = factory.sample(env, env.max_level, seed=1)
        assert top.answer and top.params == env.params_at(env.max_level)


def test_a_rerun_resumes_everything(synthesized: tuple[Path, dict[str, Any]], run: Any) -> None:
    out, _ = synthesized
    before = out.read_bytes()
    code, stdout, err = run(
        "synth", str(PROBLEMS), "-o", str(out), "--llm", f"replay:{RECORDINGS}", *FAST, "--json"
    )
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["resumed"] == len(EXPECTED) and summary["llm_calls"] == 0
    assert out.read_bytes() == before


def test_killed_and_restarted_ends_with_the_same_pool_and_no_journaled_call_repeated(
    synthesized: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """A call whose answer reached the journal is never made again; a call still in flight at
    the kill (its answer never recorded) is the only kind the second run may repeat."""
    plugin = tmp_path / "counted.py"
    plugin.write_text(textwrap.dedent(COUNTED))
    out = tmp_path / "pool.jsonl"
    journal = tmp_path / "pool.journal.jsonl"
    command = [
        sys.executable, "-m", "scaler", "--plugin", str(plugin), "synth", str(PROBLEMS),
        "-o", str(out), "--llm", f"counted:{RECORDINGS}", *FAST, "--json",
    ]  # fmt: skip
    first, second = tmp_path / "calls-1.txt", tmp_path / "calls-2.txt"
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "SCALER_TEST_COUNTER": str(first)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        events = journal.read_text().count('"event": "') if journal.exists() else 0
        if events >= 12:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not out.exists() or out.read_text() == "", "the pool is written at the end"
    journaled = {
        f"{e['problem_id']}|{e['stage']}|{e['attempt']}"
        for e in map(_event, journal.read_text().splitlines())
        if e.get("event") == "llm"
    }
    assert journaled, "the first run was killed before it journaled an answer"
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "SCALER_TEST_COUNTER": str(second)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    before = first.read_text().splitlines()
    after = second.read_text().splitlines() if second.exists() else []
    assert len(before) == len(set(before)) and len(after) == len(set(after))
    assert not journaled & set(after), "a journaled LLM answer was asked for again"
    assert journaled <= set(before)
    assert set(before) & set(after) <= set(before) - journaled
    assert len(set(before) | set(after)) == sum(e["llm_calls"] for e in EXPECTED.values())
    assert out.read_bytes() == synthesized[0].read_bytes()


def _event(line: str) -> dict[str, Any]:
    """One journal line; a kill may tear the last one, which counts as not written."""
    try:
        return dict(json.loads(line))
    except json.JSONDecodeError:
        return {}

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scaler.model import ENVIRONMENTS
from scaler.pool import load_pool, write_pool
from tests.conftest import OFFICIAL_POOL, require_shared

#: Fewer breadth trials and depth runs than the method's 100, to keep the suite quick.
FAST = ("--trials", "15", "--backend", "process")


def test_validate_the_official_pool(run: Any, tmp_path: Path) -> None:
    """Re-runs the checks on the official pool's LLM-written generators and its solutions."""
    pool = require_shared(OFFICIAL_POOL)
    report = tmp_path / "report.md"
    code, out, err = run("validate", str(pool), *FAST, "--report", str(report), "--json")
    assert code == 1, "some official environments fail a check: " + err
    cards = {card["env_id"]: card for card in json.loads(out)}
    assert len(cards) == 8
    grandma = cards["632_a-grandma-laura-and-apples"]
    failed = {c["check"]: c["reason"] for c in grandma["checks"] if not c["ok"]}
    assert "disagree" in failed["breadth"]
    passing = [card for card in cards.values() if card["ok"]]
    assert passing, "some official environments pass every check"
    for card in cards.values():
        assert {c["check"] for c in card["checks"]} == {
            "breadth", "depth", "min", "determinism", "budget",
        }  # fmt: skip
        assert len(card["levels"]) == len(card["declared_levels"])
        assert card["recalibrated_levels"] is not None
    text = report.read_text()
    assert "## Yield" in text and "| breadth |" in text and "![failed checks](report.png)" in text
    assert "declared [" in text and "recalibrated [" in text
    assert (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")


def test_calibrate_rewrites_level_tables(run: Any, tmp_path: Path, plugins: Any) -> None:
    env = plugins.get(ENVIRONMENTS, "lis-length")
    import attrs

    stale = attrs.evolve(env, levels=(0, 1, 2))
    source = tmp_path / "stale.jsonl"
    write_pool([stale], source)
    out = tmp_path / "fresh.jsonl"
    code, stdout, err = run("calibrate", str(source), "-o", str(out), "--backend", "process",
                            "--json")  # fmt: skip
    assert code == 0, err
    (row,) = json.loads(stdout)
    assert row["before"] == [0, 1, 2] and row["after"] == list(env.levels)
    assert load_pool(out)[0].levels == env.levels


def test_validate_a_native_pool_with_a_broken_env(run: Any, tmp_path: Path, plugins: Any) -> None:
    import attrs

    from scaler.model import Program

    good = plugins.get(ENVIRONMENTS, "sort-distinct")
    broken = attrs.evolve(
        good, id="broken", solutions=(*good.solutions, Program("python", "print(0)"))
    )
    pool = tmp_path / "pool.jsonl"
    write_pool([good, broken], pool)
    code, out, err = run("validate", str(pool), *FAST, "--checks", "breadth,min", "--json")
    assert code == 1, err
    cards = {card["env_id"]: card for card in json.loads(out)}
    assert cards["sort-distinct"]["ok"]
    reasons = [c["reason"] for c in cards["broken"]["checks"] if not c["ok"]]
    assert reasons and all("disagree" in r for r in reasons)
    # Without the broken env every environment passes: exit 0, the table says so.
    write_pool([good], pool)
    code, out, err = run("validate", str(pool), *FAST, "--checks", "breadth,min")
    assert code == 0, err
    assert "1 of 1 environments pass" in out


def test_level_figures_take_two_rounds_and_keep_each_levels_failure(
    plugins: Any, sandbox: Any
) -> None:
    """Every level's inputs go in one generator batch and their solutions in one more; a level
    whose generator fails says why, and the levels around it still get their figures."""
    import attrs

    from scaler.synth.checks import Candidate, CheckContext
    from scaler.synth.validate import _level_figures

    env = plugins.get(ENVIRONMENTS, "lis-length")
    top = env.params_at(len(env.levels) - 1)
    wrapped = (
        env.generator.source
        + "\n_made_by = generate\n\ndef generate(params, rng):\n"
        + f"    if params == {dict(top)!r}:\n        raise ValueError('no input this large')\n"
        + "    return _made_by(params, rng)\n"
    )
    failing = attrs.evolve(env, generator=attrs.evolve(env.generator, source=wrapped))
    batches: list[int] = []

    class Counting:
        def run_batch(self, jobs: Any) -> Any:
            batches.append(len(jobs))
            return sandbox.run_batch(jobs)

    context = CheckContext(Counting(), plugins)  # type: ignore[arg-type]
    figures = _level_figures(failing, Candidate.from_env(failing), context)
    levels = len(env.levels)
    assert batches == [2 * levels, 2 * (levels - 1)]
    assert "no input this large" in figures[-1].error and figures[-1].cpu_s is None
    assert all(f.error == "" and f.cpu_s is not None and f.input_size > 0 for f in figures[:-1])
    plain = _level_figures(env, Candidate.from_env(env), CheckContext(sandbox, plugins))
    assert [(f.level, f.params, f.input_size) for f in figures[:-1]] == [
        (f.level, f.params, f.input_size) for f in plain[:-1]
    ]

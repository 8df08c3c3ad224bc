from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scaler.curriculum.report import render_compare_report, render_report, summarize
from tests.curriculum.test_plots import synthetic_run

RUN_INFO = {
    "controller": "scaler",
    "curation": "scaler-window",
    "trainer": "simulate",
    "pool_size": 5,
    "window": 3,
    "seed": 0,
}


def _env(before: float, after: float, max_level: int, levels: list[int], acc: float | None) -> Any:
    return {
        "difficulty_before": before,
        "difficulty": after,
        "max_level": max_level,
        "levels": levels,
        "accuracy": acc,
        "rollouts": 8,
        "prompts": 1,
        "informative_groups": 1,
    }


def _retired(env_id: str, reason: str, detail: str, step: int) -> dict[str, Any]:
    return {"env_id": env_id, "reason": reason, "detail": detail, "step": step}


def tiny_run() -> list[dict[str, Any]]:
    """Three steps over five envs, sequenced like the scheduler (a retirement is listed in the
    step it takes effect, which that env no longer plays): env-c cannot be built, env-b and
    env-e stop solving anything, env-a tops out at its level 2, env-d replaces env-c at step 2
    and gets no prompts that step."""
    return [
        {
            "step": 1,
            "active": ["env-a", "env-b", "env-c", "env-e"],
            "added": ["env-a", "env-b", "env-c", "env-e"],
            "retired": [],
            "envs": {
                "env-a": _env(0.0, 1.0, 2, [0], 0.75),
                "env-b": _env(0.0, 0.0, 4, [0], 0.0),
                "env-c": _env(0.0, 0.0, 3, [0], None),
                "env-e": _env(3.0, 2.0, 6, [3], 0.0),
            },
            "groups": 3,
            "informative_fraction": 0.5,
            "mean_accuracy": 0.25,
            "instance_wait_s": 0.5,
            "step_s": 0.2,
        },
        {
            "step": 2,
            "active": ["env-a", "env-d", "env-e"],
            "added": ["env-d"],
            "retired": [
                _retired("env-c", "instance-failure", "generator crashed: exit 1", 2),
                _retired("env-b", "zero-accuracy", "accuracy 0 in each of the last 5 steps", 2),
            ],
            "envs": {
                "env-a": _env(1.0, 2.0, 2, [1, 2], 0.8),
                "env-e": _env(2.0, 1.0, 6, [2], 0.0),
            },
            "groups": 2,
            "informative_fraction": 0.25,
            "mean_accuracy": 0.3,
            "instance_wait_s": 0.25,
            "step_s": 0.2,
        },
        {
            "step": 3,
            "active": ["env-d"],
            "added": [],
            "retired": [
                _retired("env-a", "saturated", "difficulty at the maximum level 2", 3),
                _retired("env-e", "zero-accuracy", "accuracy 0 | 5 steps", 3),
            ],
            "envs": {"env-d": _env(0.0, 1.0, 5, [0], 0.9)},
            "groups": 1,
            "informative_fraction": 1.0,
            "mean_accuracy": 0.5,
            "instance_wait_s": 0.0,
            "step_s": 0.2,
        },
    ]


def test_summary_matches_hand_computed_values() -> None:
    summary = summarize(tiny_run())
    assert summary["steps"] == 3
    assert summary["envs_seen"] == 5
    assert summary["retirements_by_reason"] == {
        "instance-failure": 1,
        "saturated": 1,
        "zero-accuracy": 2,
    }
    assert summary["mean_accuracy"] == pytest.approx((0.25 + 0.3 + 0.5) / 3)
    assert summary["informative_fraction"] == pytest.approx((0.5 + 0.25 + 1.0) / 3)
    # Fewer than 50 steps: the "last" window is the whole run.
    assert summary["informative_fraction_last"] == pytest.approx(summary["informative_fraction"])
    # Last d / max level: env-a 2/2, env-b 0/4, env-c 0/3, env-d 1/5, env-e 1/6 (from step 2).
    assert summary["mean_final_difficulty_normalized"] == pytest.approx(
        (1 + 0 + 0 + 0.2 + 1 / 6) / 5
    )
    assert summary["instance_wait_s_total"] == pytest.approx(0.75)


def test_per_env_digest() -> None:
    per_env = summarize(tiny_run())["per_env"]
    assert list(per_env) == ["env-a", "env-b", "env-c", "env-d", "env-e"]
    assert per_env["env-a"] == {
        "steps_active": 2,
        "final_difficulty": 2.0,
        "max_level": 2,
        "best_level": 2,
        "retirements": ["saturated"],
    }
    assert per_env["env-c"] == {
        "steps_active": 1,
        "final_difficulty": 0.0,
        "max_level": 3,
        "best_level": 0,
        "retirements": ["instance-failure"],
    }
    # env-d was active at step 2 without prompts: active counts, but d comes from step 3.
    assert per_env["env-d"] == {
        "steps_active": 2,
        "final_difficulty": 1.0,
        "max_level": 5,
        "best_level": 0,
        "retirements": [],
    }
    # env-e fell from level 3: its best level is the highest it played, not its last.
    assert (per_env["env-e"]["best_level"], per_env["env-e"]["final_difficulty"]) == (3, 1.0)


def test_env_known_only_from_a_retirement_is_still_listed() -> None:
    """Logs that start mid-run may name an env only in a retirement."""
    record = {**tiny_run()[2], "step": 1}
    per_env = summarize([record])["per_env"]
    assert per_env["env-e"] == {
        "steps_active": 0,
        "final_difficulty": None,
        "max_level": None,
        "best_level": None,
        "retirements": ["zero-accuracy"],
    }
    assert "| env-e | 0 | - / - | - | zero-accuracy |" in render_report([record], {}, [])


def test_informative_fraction_last_covers_the_last_50_steps() -> None:
    records = [
        {"step": i + 1, "informative_fraction": 0.0 if i < 10 else 1.0, "mean_accuracy": None}
        for i in range(60)
    ]
    summary = summarize(records)
    assert summary["informative_fraction_last"] == pytest.approx(1.0)
    assert summary["informative_fraction"] == pytest.approx(50 / 60)
    assert summary["mean_accuracy"] is None
    assert summary["envs_seen"] == 0 and summary["mean_final_difficulty_normalized"] is None


def test_report_sections_tables_and_links(tmp_path: Path) -> None:
    plots = [tmp_path / name for name in ("difficulty.png", "active-set.png", "signal.png")]
    report = render_report(tiny_run(), RUN_INFO, plots)
    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert headings == [
        "# Curriculum run",
        "## Summary",
        "## Plots",
        "## Environments",
        "## Retirements",
        "## How to read this",
    ]
    assert "- **controller**: scaler" in report
    assert "- **pool_size**: 5" in report
    assert "| envs seen | 5 |" in report
    assert "| mean final difficulty / max level | 0.273 |" in report
    assert "| retirements | instance-failure 1, saturated 1, zero-accuracy 2 |" in report
    for name in ("difficulty", "active-set", "signal"):
        assert f"![{name}]({name}.png)" in report
    assert str(tmp_path) not in report
    assert "| env-a | 2 | 2 / 2 | 2 | saturated |" in report
    assert "| env-c | 1 | 0 / 3 | 0 | instance-failure |" in report
    assert "| env-d | 2 | 1 / 5 | 0 | - |" in report
    assert "| env-e | 2 | 1 / 6 | 3 | zero-accuracy |" in report
    assert "| 2 | env-c | instance-failure | generator crashed: exit 1 |" in report
    assert "| 2 | env-b | zero-accuracy | accuracy 0 in each of the last 5 steps |" in report
    assert "| 3 | env-a | saturated | difficulty at the maximum level 2 |" in report
    # A pipe in a detail must not split the table row.
    assert "| 3 | env-e | zero-accuracy | accuracy 0 \\| 5 steps |" in report
    assert "no-progress" in report.split("## How to read this")[1]


def test_report_without_retirements_says_none() -> None:
    report = render_report(tiny_run()[:1], {}, [])
    retirements = report.split("## Retirements")[1].split("##")[0]
    assert retirements.strip() == "None."


def test_report_of_a_realistic_run_lists_every_retirement() -> None:
    records = synthetic_run(reason_every=3)
    report = render_report(records, RUN_INFO, [Path("difficulty.png")])
    count = 0
    for record in records:
        for r in record["retired"]:
            row = f"| {record['step']} | {r['env_id']} | {r['reason']} | {r['detail']} |"
            assert row in report
            count += 1
    assert count > 10
    env_rows = report.split("## Environments")[1].split("## Retirements")[0]
    assert sum(line.startswith("| env-") for line in env_rows.splitlines()) == 10


def test_compare_report_has_a_row_per_run() -> None:
    runs = {"scaler": tiny_run(), "random": synthetic_run(steps=20)}
    report = render_compare_report(runs, Path("/somewhere/compare.png"))
    rows = [line for line in report.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows[1:]] == ["| scaler", "| random"]
    assert rows[1].startswith("| scaler | 3 | 5 | 0.350 | 0.583 | 0.583 | 0.273 | 0.750 |")
    assert rows[1].endswith("| instance-failure 1, saturated 1, zero-accuracy 2 |")
    assert "![compare](compare.png)" in report


@pytest.mark.parametrize(
    "call",
    [
        lambda: summarize([]),
        lambda: render_report([], RUN_INFO, []),
        lambda: render_compare_report({}, Path("c.png")),
        lambda: render_compare_report({"a": tiny_run(), "b": []}, Path("c.png")),
    ],
)
def test_empty_metrics_are_refused(call: Any) -> None:
    with pytest.raises(ValueError, match=r"no .*(metrics|runs)"):
        call()

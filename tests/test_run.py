from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

TIMING = ("instance_wait_s", "step_s")


def _metrics(directory: Path) -> list[dict[str, Any]]:
    lines = (directory / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        for key in TIMING:
            record.pop(key)
    return records


def test_default_run_writes_metrics_state_report_and_plots(run: Any, tmp_path: Path) -> None:
    """`scaler run` with no config: the builtin pack, the paper's curriculum, 200 steps."""
    out = tmp_path / "default"
    code, stdout, stderr = run("run", "--out", str(out))
    assert code == 0, stderr
    for name in ("metrics.jsonl", "state.json", "report.md", "config.json", "run.json"):
        assert (out / name).stat().st_size > 0, name
    for name in ("difficulty.png", "active-set.png", "signal.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG"), name
    metrics = _metrics(out)
    assert [m["step"] for m in metrics] == list(range(1, 201))
    state = json.loads((out / "state.json").read_text())
    assert state["step"] == 200
    final = {}
    for record in metrics:
        for env_id, stats in record["envs"].items():
            final[env_id] = stats["difficulty"]
    assert max(final.values()) >= 8, "levels rise on learnable environments"
    reasons = {r["reason"] for m in metrics for r in m["retired"]}
    assert reasons & {"zero-accuracy", "saturated", "no-progress"}
    assert all(r["detail"] for m in metrics for r in m["retired"])
    report = (out / "report.md").read_text()
    assert "![difficulty](difficulty.png)" in report and "no-progress" in report
    assert "mean accuracy" in stdout and str(out) in stdout


def test_resumed_run_ends_in_the_same_state(run: Any, tmp_path: Path) -> None:
    whole, split = tmp_path / "whole", tmp_path / "split"
    common = ("simulate", "--backend", "process", "--json")
    assert run(*common, "--steps", "100", "--out", str(whole))[0] == 0
    assert run(*common, "--steps", "50", "--out", str(split))[0] == 0
    code, out, err = run(*common[:-1], "--steps", "50", "--resume", str(split), "--json")
    assert code == 0, err
    assert json.loads(out)["steps"] == 100
    assert (split / "state.json").read_bytes() == (whole / "state.json").read_bytes()
    assert _metrics(split) == _metrics(whole)


def test_resume_refuses_new_settings(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert run("simulate", "--backend", "process", "--steps", "2", "--out", str(out))[0] == 0
    code, _, err = run("simulate", "--resume", str(out), "--controller", "elo")
    assert code == 2 and "drop --controller" in err
    code, _, err = run("simulate", "--backend", "process", "--steps", "2", "--out", str(out))
    assert code == 2 and "already holds a run" in err and "--resume" in err
    code, _, err = run("simulate", "--resume", str(tmp_path))
    assert code == 2 and "no state.json" in err


def test_killed_run_resumes_without_loss(tmp_path: Path) -> None:
    """kill -9 at an arbitrary step; the state names the last complete step, nothing is lost."""
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "scaler", "simulate", "--backend", "process"]
    process = subprocess.Popen(
        [*command, "--steps", "200", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    state_file = out / "state.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if state_file.exists() and json.loads(state_file.read_text())["step"] >= 6:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    stopped = json.loads(state_file.read_text())["step"]
    assert 6 <= stopped < 200
    done = subprocess.run(
        [*command, "--steps", "4", "--resume", str(out), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert json.loads(done.stdout)["steps"] == stopped + 4
    assert [m["step"] for m in _metrics(out)] == list(range(1, stopped + 5))


def test_a_plugin_controller_is_used_by_name(run: Any, tmp_path: Path) -> None:
    plugin = tmp_path / "pinned_plugin.py"
    plugin.write_text(
        textwrap.dedent(
            """
            from scaler import hookimpl
            from scaler.curriculum.controllers import FixedController


            def pinned(max_level, level=0):
                return FixedController(max_level, level=level)


            @hookimpl
            def scaler_register_controllers(register):
                register("pinned", pinned)
            """
        )
    )
    config = tmp_path / "pinned.toml"
    config.write_text(
        textwrap.dedent(
            """
            [run]
            steps = 3
            batch_size = 4
            [pool]
            envs = ["lis-length", "sort-distinct"]
            [sandbox]
            name = "process"
            [controller]
            name = "pinned"
            level = 2
            """
        )
    )
    code, _, err = run("run", str(config), "--out", str(tmp_path / "no"))
    assert code == 2 and "unknown controller 'pinned'" in err
    out = tmp_path / "pinned"
    code, _, err = run("--plugin", str(plugin), "run", str(config), "--out", str(out))
    assert code == 0, err
    levels = {level for m in _metrics(out) for s in m["envs"].values() for level in s["levels"]}
    assert levels == {2}
    saved = json.loads((out / "config.json").read_text())
    assert saved["controller"] == {"name": "pinned", "level": 2}


def test_compare_runs_side_by_side(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    code, stdout, err = run(
        "simulate", "--backend", "process", "--steps", "8", "--compare", "scaler,elo@all",
        "--out", str(out), "--json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(stdout)
    assert set(result["runs"]) == {"scaler", "elo+all"}
    assert all(run["trainer"]["skill_gained"] >= 0 for run in result["runs"].values())
    assert (out / "compare.png").read_bytes().startswith(b"\x89PNG")
    assert "compare.png" in (out / "report.md").read_text()
    elo = json.loads((out / "elo+all" / "config.json").read_text())
    assert (elo["controller"]["name"], elo["curation"]["name"]) == ("elo", "all")
    assert len(_metrics(out / "scaler")) == 8


def test_run_help_teaches(run: Any) -> None:
    code, out, _ = run("run", "--help")
    assert code == 0 and "configs/default.toml" in out and "--resume" in out
    code, out, _ = run("simulate", "--help")
    assert code == 0 and "--compare" in out and "scaler simulate --steps 300" in out


@pytest.mark.parametrize("name", ["default.toml", "paper.toml"])
def test_shipped_configs_load(name: str) -> None:
    from scaler.config import RunConfig

    config = RunConfig.load(ROOT / "configs" / name)
    assert config.controller.name == "scaler" and config.trainer.name == "simulate"


BROKEN_ENV_PLUGIN = """
from scaler import EnvSpec, Program, ScaleParam, hookimpl
from scaler.levels import level_offsets

BROKEN = EnvSpec(
    id="broken",
    name="Broken",
    statement="Its generator always fails.",
    output_spec="A number.",
    output_type="number",
    scale_params=(ScaleParam("n", 1, 10),),
    levels=level_offsets(9),
    generator=Program("python", "def generate(params, rng):\\n    raise RuntimeError('nope')\\n"),
    solutions=(Program("python", "print(1)"),),
)


@hookimpl
def scaler_register_environments(register):
    register(BROKEN)
"""


@pytest.mark.parametrize("curation", ["all", "scaler-window"])
def test_an_env_retired_before_its_first_step_is_summarized(
    run: Any, tmp_path: Path, curation: str
) -> None:
    """An env whose instances all fail retires with no difficulty: the summary shows "-"."""
    plugin = tmp_path / "broken_env.py"
    plugin.write_text(BROKEN_ENV_PLUGIN)
    config = tmp_path / "broken.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [run]
            steps = 2
            batch_size = 4
            [pool]
            envs = ["broken", "lis-length"]
            [sandbox]
            name = "process"
            [curation]
            name = "{curation}"
            """
        )
    )
    if curation != "all":
        config.write_text(config.read_text() + "window = 2\n")
    for extra in ((), ("--json",)):
        out = tmp_path / f"{curation}{len(extra)}"
        code, stdout, err = run(
            "--plugin", str(plugin), "run", str(config), "--out", str(out), *extra
        )
        assert code == 0, err
        if extra:
            assert json.loads(stdout)["envs"]["broken"]["final_difficulty"] is None
        else:
            broken = next(line for line in stdout.splitlines() if "broken" in line)
            assert "instance-failure" in broken and "- / -" in broken


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('[controller]\nname = "nosuch"\n', "field 'controller.name': unknown controller 'nosuch'"),
        ('[controller]\nname = "scaler"\nbogus = 1\n', "field 'controller': 'scaler' does not"),
        ('[curation]\nname = "nosuch"\n', "field 'curation.name': unknown curation policy"),
    ],
)
def test_a_refused_run_names_the_table_and_leaves_no_directory(
    run: Any, tmp_path: Path, table: str, expected: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[sandbox]\nname = "process"\n' + table)
    out = tmp_path / "out"
    code, _, err = run("run", str(config), "--out", str(out))
    assert code == 2 and f"{config}, {expected}" in err
    assert not out.exists()


def test_simulate_compare_checks_every_name_first_and_reruns_into_new_folders(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ("simulate", "--backend", "process", "--steps", "2", "--batch-size", "2")
    code, _, err = run(*args, "--compare", "scaler,nosuch")
    assert code == 2 and "unknown controller 'nosuch'" in err
    assert not (tmp_path / "runs").exists(), "nothing ran, nothing was written"
    first = run(*args, "--compare", "scaler,elo", "--json")
    second = run(*args, "--compare", "scaler,elo", "--json")
    assert first[0] == second[0] == 0, first[2] + second[2]
    directories = {json.loads(result[1])["directory"] for result in (first, second)}
    assert len(directories) == 2
    assert all(Path(d).name.startswith("compare-scaler-elo-") for d in directories)

from __future__ import annotations

import math
import random
import statistics
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from scaler.curriculum import plots
from scaler.curriculum.plots import plot_compare, plot_run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Env behaviours of the synthetic run, in pool order; the rest of the pool is "learn".
_KINDS = ("easy", "hard", "flat", "broken", "learn", "hard")
_SUCCESS = {"easy": 0.95, "hard": 0.0, "flat": 0.45, "broken": 0.6}


def synthetic_run(
    steps: int = 60, pool: int = 10, window: int = 6, seed: int = 0, reason_every: int = 0
) -> list[dict[str, Any]]:
    """Metrics records of a small simulated curriculum, shaped and sequenced like the
    scheduler's: verdicts taken after step t retire the env before step t + 1 (that record lists
    the retirement, without the env), and a replacement drawn from the pool takes its place, so
    retired envs come back.

    "easy" envs climb to their top level and saturate, "hard" ones never solve a rollout
    (zero-accuracy), "flat" ones hover (no-progress), "broken" ones fail to build instances on
    their third step (instance-failure, with a null accuracy). Learnable envs sometimes get no
    prompts, so their difficulty lines have gaps. ``reason_every`` > 0 also retires every n-th
    env after four steps on a made-up plugin reason.
    """
    rng = random.Random(seed)
    names = [f"env-{i:02d}" for i in range(pool)]
    kind = {n: _KINDS[i] if i < len(_KINDS) else "learn" for i, n in enumerate(names)}
    max_level = {n: 8 if kind[n] == "easy" else rng.choice((10, 20, 29)) for n in names}
    d = dict.fromkeys(names, 0.0)
    active = names[:window]
    tenure: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in active}
    pending: list[tuple[str, str, str]] = []
    records = []
    for step in range(1, steps + 1):
        added = list(active) if step == 1 else []
        leaving = {n for n, _, _ in pending}
        for n, _, _ in pending:
            candidates = [m for m in names if m not in leaving and m not in active]
            if candidates:
                active[active.index(n)] = fresh = rng.choice(candidates)
                added.append(fresh)
                tenure[fresh] = ([], [])
            else:
                active.remove(n)
        retired = [{"env_id": n, "reason": r, "detail": why, "step": step} for n, r, why in pending]
        pending = []
        envs: dict[str, dict[str, Any]] = {}
        for n in active:
            if kind[n] == "learn" and step > 1 and rng.random() < 0.15:
                continue  # no prompts for this env this step
            before = d[n]
            accs, ds = tenure[n]
            if kind[n] == "broken" and len(accs) == 2:
                envs[n] = _env_record(before, before, max_level[n], [int(before)], None, 0, 1, 0)
                pending.append((n, "instance-failure", "no instance built for level 0 (3 seeds)"))
                continue
            p = _SUCCESS.get(kind[n], min(0.95, max(0.05, 0.9 - 0.05 * before + 0.01 * step)))
            groups = [sum(rng.random() < p for _ in range(8)) for _ in range(2)]
            accuracy = sum(groups) / 16
            if accuracy >= 0.6:
                d[n] = min(max_level[n], before + 1)
            elif accuracy <= 0.2:
                d[n] = max(0.0, before - 1)
            levels = sorted({int(before), min(max_level[n], int(before) + 1)})
            informative = sum(0 < g < 8 for g in groups)
            envs[n] = _env_record(before, d[n], max_level[n], levels, accuracy, 16, 2, informative)
            accs.append(accuracy)
            ds.append(d[n])
            if len(accs) >= 5 and not any(accs[-5:]):
                pending.append((n, "zero-accuracy", "accuracy 0 in each of the last 5 steps"))
            elif len(ds) >= 5 and min(ds[-5:]) >= max_level[n]:
                pending.append((n, "saturated", f"difficulty at the maximum level {max_level[n]}"))
            elif len(ds) >= 10 and statistics.linear_regression(range(10), ds[-10:]).slope <= 0:
                pending.append((n, "no-progress", "difficulty slope <= 0 over the last 10 steps"))
            elif reason_every and names.index(n) % reason_every == 1 and len(accs) == 4:
                pending.append((n, "budget-exceeded", "plugin: token budget spent"))
        played = [e for e in envs.values() if e["accuracy"] is not None]
        groups_total = sum(e["prompts"] for e in played)
        records.append(
            {
                "step": step,
                "active": list(active),
                "added": added,
                "retired": retired,
                "envs": envs,
                "groups": groups_total,
                "informative_fraction": (
                    sum(e["informative_groups"] for e in played) / groups_total
                    if groups_total
                    else 0.0
                ),
                "mean_accuracy": sum(e["accuracy"] for e in played) / len(played)
                if played
                else 0.0,
                "instance_wait_s": 0.01,
                "step_s": 0.2,
            }
        )
    return records


def _env_record(
    before: float,
    after: float,
    max_level: int,
    levels: list[int],
    accuracy: float | None,
    rollouts: int,
    prompts: int,
    informative: int,
) -> dict[str, Any]:
    return {
        "difficulty_before": before,
        "difficulty": after,
        "max_level": max_level,
        "levels": levels,
        "accuracy": accuracy,
        "rollouts": rollouts,
        "prompts": prompts,
        "informative_groups": informative,
    }


def _pixels(path: Path) -> np.ndarray:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _has_colour(pixels: np.ndarray, hex_colour: str) -> bool:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return bool((np.abs(pixels.astype(int) - rgb).max(axis=2) <= 2).any())


def _distinct_colours(pixels: np.ndarray) -> int:
    packed = pixels.astype(np.int32)
    return len(np.unique(packed[..., 0] << 16 | packed[..., 1] << 8 | packed[..., 2]))


def test_synthetic_run_covers_every_core_reason() -> None:
    records = synthetic_run()
    reasons = {r["reason"] for record in records for r in record["retired"]}
    assert {"zero-accuracy", "saturated", "no-progress", "instance-failure"} <= reasons
    assert any(record["added"] for record in records[1:])
    for record in records:
        assert not {r["env_id"] for r in record["retired"]} & set(record["active"])
        assert set(record["envs"]) <= set(record["active"])
    # Retired envs are drawn again later: envs leave and join throughout the run.
    assert any(
        r["env_id"] in later["active"]
        for record in records
        for r in record["retired"]
        for later in records[record["step"] :]
    )


@pytest.fixture(scope="module")
def run_plots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The plots of the default synthetic run, rendered once: rendering dominates test time."""
    return plot_run(synthetic_run(), tmp_path_factory.mktemp("run") / "plots", title="seed 0")


def test_plot_run_writes_three_readable_pngs(run_plots: list[Path]) -> None:
    paths = run_plots
    assert [p.name for p in paths] == ["difficulty.png", "active-set.png", "signal.png"]
    assert sorted(p.name for p in paths[0].parent.iterdir()) == sorted(p.name for p in paths)
    for path in paths:
        pixels = _pixels(path)
        height, width, _ = pixels.shape
        with Image.open(path) as image:
            assert image.size == (width, height)
        assert 900 <= width <= 2000 and 350 <= height <= 1400, (path.name, width, height)
        assert _distinct_colours(pixels) > 50, path.name


def test_retirement_and_active_colours_reach_the_pixels(run_plots: list[Path]) -> None:
    difficulty, active_set, signal = (_pixels(p) for p in run_plots)
    for reason in ("zero-accuracy", "saturated", "no-progress", "instance-failure"):
        colour = plots._REASON_STYLE[reason][0]
        assert _has_colour(active_set, colour), reason
    assert _has_colour(active_set, plots._ACTIVE_COLOUR)
    assert _has_colour(difficulty, plots._REASON_STYLE["saturated"][0])
    for _, _, colour in plots._SERIES:
        assert _has_colour(signal, colour)


def test_unknown_reasons_get_their_own_colour(tmp_path: Path) -> None:
    records = synthetic_run(reason_every=3)
    assert any(r["reason"] == "budget-exceeded" for rec in records for r in rec["retired"])
    active_set = _pixels(plots._save(plots._active_set_figure(records, ""), tmp_path / "a.png"))
    assert _has_colour(active_set, plots._SPARE_COLOURS[0])
    styles = plots._reason_styles(["zz-custom", "budget-exceeded", "saturated"])
    assert styles["budget-exceeded"][0] == plots._SPARE_COLOURS[0]
    assert styles["zz-custom"][0] == plots._SPARE_COLOURS[1]
    assert styles["saturated"] == plots._REASON_STYLE["saturated"]


def test_difficulty_lines_break_where_an_env_got_no_prompts() -> None:
    records = synthetic_run()
    fig = plots._difficulty_figure(records, "")
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert len(lines) == len({n for r in records for n in r["envs"]})
    for name, line in lines.items():
        played = [name in r["envs"] for r in records]
        ys = np.asarray(line.get_ydata(), dtype=float)
        assert list(~np.isnan(ys)) == played, name
    # 10 envs: each has a legend entry, next to the legend of reasons.
    titles = [
        child.get_title().get_text()
        for child in fig.axes[0].get_children()
        if child.__class__.__name__ == "Legend"
    ]
    assert sorted(titles) == ["env", "retired"]


def test_retirement_marker_sits_at_the_last_difficulty() -> None:
    records = synthetic_run()
    fig = plots._difficulty_figure(records, "")
    offsets = {tuple(xy) for c in fig.axes[0].collections for xy in c.get_offsets()}
    for record in records:
        for retired in record["retired"]:
            name = retired["env_id"]
            known = [
                r["envs"][name]["difficulty"]
                for r in records[: record["step"]]
                if name in r["envs"]
            ]
            assert (float(record["step"]), float(known[-1])) in offsets, name


def test_many_envs_render_without_row_labels_and_name_the_furthest_envs(
    tmp_path: Path, run_plots: list[Path]
) -> None:
    records = synthetic_run(steps=15, pool=50, window=45, seed=3)
    envs = {n for r in records for n in r["active"]}
    assert len(envs) > plots.MAX_ROW_LABELS
    paths = plot_run(records, tmp_path)
    assert all(_distinct_colours(_pixels(p)) > 50 for p in paths)
    raster = plots._active_set_figure(records, "")
    assert list(raster.axes[0].get_yticks()) == []
    small = plots._active_set_figure(synthetic_run(steps=10), "")
    labels = [t.get_text() for t in small.axes[0].get_yticklabels()]
    assert labels[0] == "env-00" and len(labels) == len(set(labels)) > 5
    assert _pixels(paths[1]).shape[0] > _pixels(run_plots[1]).shape[0]  # taller raster
    figure = plots._difficulty_figure(records, "run")
    legends = [c for c in figure.axes[0].get_children() if c.__class__.__name__ == "Legend"]
    assert [lg.get_title().get_text() for lg in legends] == ["retired", "env (by final d)"]
    named = [text.get_text() for text in legends[1].get_texts()]
    final: dict[str, float] = {}
    for record in records:
        for name, env in record["envs"].items():
            if env.get("difficulty") is not None:
                final[name] = env["difficulty"]
    top = sorted(final, key=lambda name: (-final[name], name))[: plots.MAX_ENV_LEGEND]
    assert named == [*top, f"{len(final) - len(top)} others"]
    assert (
        figure.axes[0].get_title() == f"run: difficulty per environment ({len(final)} envs played)"
    )


def _bare_records() -> list[dict[str, Any]]:
    """Records without env data, as a run cut short or trimmed logs may leave."""
    return [{"step": i + 1, "informative_fraction": 0.5, "mean_accuracy": None} for i in range(4)]


def test_records_without_env_data_build_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for build in (plots._difficulty_figure, plots._active_set_figure, plots._signal_figure):
            build(_bare_records(), "")


def test_env_known_only_from_a_retirement_gets_a_row() -> None:
    """Logs that start mid-run may name an env only in a retirement; it still gets a row, placed
    by its retirement step (ties by name)."""
    record = {
        "step": 7,
        "active": ["env-b"],
        "retired": [{"env_id": "env-a", "reason": "zero-accuracy", "detail": "", "step": 7}],
        "envs": {},
    }
    ax = plots._active_set_figure([record], "").axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["env-a", "env-b"]
    assert [tuple(xy) for c in ax.collections for xy in c.get_offsets()] == [(7.0, 0.0)]


def test_runs_plot_concurrently_in_threads(tmp_path: Path) -> None:
    """No pyplot, no shared figure state: runs plotted side by side each get their own files.
    One of them has no env data, which must still render."""
    jobs = {tmp_path / "full": synthetic_run(steps=8), tmp_path / "bare": _bare_records()}
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda item: plot_run(item[1], item[0]), jobs.items()))
    for out_dir, paths in zip(jobs, results, strict=True):
        assert [p.parent for p in paths] == [out_dir] * 3
        assert all(_distinct_colours(_pixels(p)) > 10 for p in paths)


def test_rolling_mean_is_trailing_and_skips_missing_values() -> None:
    values = np.array([1.0, math.nan, 3.0, 5.0, math.nan, math.nan])
    got = plots._rolling_mean(values, window=2)
    assert np.allclose(got[:5], [1.0, 1.0, 3.0, 4.0, 5.0])
    assert math.isnan(got[5])


def test_plot_compare_writes_one_file(tmp_path: Path) -> None:
    runs = {"scaler": synthetic_run(seed=1), "random": synthetic_run(steps=40, seed=2)}
    out = plot_compare(runs, tmp_path / "cmp" / "compare.png")
    assert out == tmp_path / "cmp" / "compare.png"
    assert [p.name for p in (tmp_path / "cmp").iterdir()] == ["compare.png"]
    pixels = _pixels(out)
    assert pixels.shape[1] > pixels.shape[0] * 2  # three panels side by side
    assert _distinct_colours(pixels) > 50


@pytest.mark.parametrize(
    "call",
    [
        lambda tmp: plot_run([], tmp),
        lambda tmp: plot_compare({}, tmp / "c.png"),
        lambda tmp: plot_compare({"a": synthetic_run(steps=3), "b": []}, tmp / "c.png"),
    ],
)
def test_empty_metrics_are_refused(tmp_path: Path, call: Any) -> None:
    with pytest.raises(ValueError, match=r"no .*(metrics|runs)"):
        call(tmp_path)
    assert not list(tmp_path.iterdir())

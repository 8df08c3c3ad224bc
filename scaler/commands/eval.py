"""``scaler eval``: a policy per environment and level, or avg@k on benchmark files, through
``scaler.evaluate.directory``.

The library is imported when the command runs, not when the plugin set loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scaler.commands import common as app
from scaler.evaluate.envs import DEFAULT_BATCH
from scaler.hookspecs import hookimpl

if TYPE_CHECKING:
    from collections.abc import Callable

    from scaler.evaluate.benchmarks import Benchmark
    from scaler.evaluate.policies import Policy


@click.command("eval")
@click.argument("policy_spec", metavar="NAME:MODEL")
@app.policy_option
@app.pool_option
@click.option("--envs", "env_ids", help="Comma-separated env ids (default: all).")
@click.option("--levels", help="Comma-separated levels (default: every level).")
@click.option("-n", "count", type=click.IntRange(min=1), default=8, show_default=True,
              help="Instances per (env, level).")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Prompts per call of the policy, whole (env, level) groups. Results are written "
    "after each call, so a kill loses the groups of the call in flight: with --batch at most "
    "-n, one group, at the cost of batching.",
)
@click.option(
    "--bench",
    "bench_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Benchmark parquet files in verl's schema (repeatable): avg@k instead of envs.",
)
@click.option("--k", "k", type=click.IntRange(min=1), default=16, show_default=True,
              help="Samples per benchmark question (avg@k).")  # fmt: skip
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for results.jsonl, report.md and the plot; a rerun resumes from it.",
)
@app.backend_option
@app.json_option
def eval_command(
    policy_spec: str,
    options: tuple[str, ...],
    pool: Path | None,
    env_ids: str | None,
    levels: str | None,
    count: int,
    seed: int,
    batch: int,
    bench_files: tuple[Path, ...],
    k: int,
    out: Path,
    backend: str,
    as_json: bool,
) -> None:
    """Evaluate a policy per environment and level, or on benchmark files (avg@k).

    \b
    Policies: openai:MODEL (an OpenAI-compatible server, e.g. `vllm serve`), hf:PATH (a
    transformers checkpoint in this process; CPU works, slowly), vllm:PATH (vLLM's
    offline engine in this process), or a plugin's. A verl checkpoint is merged into a
    Hugging Face directory first (docs/evaluation.md).

    \b
      scaler eval openai:Qwen/Qwen3-4B --policy-option base_url=http://localhost:8000/v1 \\
          --levels 0,5,10,15 -n 16 --out evals/qwen3-4b
      scaler eval hf:evals/step200-hf --levels 0,5 -n 4 --out evals/step200
      scaler eval openai:Qwen/Qwen3-4B --bench MATH-500.parquet --bench aime24.parquet \\
          --k 16 --out evals/qwen3-4b-bench

    Every scored answer is appended to OUT/results.jsonl with the policy and its
    decoding settings; run the same command again to resume a killed run.
    """
    policy = app.make_policy(policy_spec, options)
    if bench_files:
        _bench(policy, bench_files, k, out, as_json)
    else:
        _envs(policy, pool, env_ids, levels, count, seed, batch, out, backend, as_json)


def _bench(policy: Policy, files: tuple[Path, ...], k: int, out: Path, as_json: bool) -> None:
    from scaler.evaluate.directory import evaluate_benchmarks_into

    with app.progress_bar() as bar:

        def started(benchmark: Benchmark) -> Callable[[int], None]:
            task = bar.add_task(benchmark.name, total=len(benchmark.items), status=f"k={k}")
            return lambda n: bar.update(task, advance=n)

        evaluation = evaluate_benchmarks_into(out, policy, files, k, started)
    if as_json:
        app.print_json(evaluation.to_dict())
        return
    app.table(
        f"{policy.name}: avg@{k}",
        ["benchmark", "questions", f"avg@{k}", f"pass@{k}"],
        [
            [r.name, r.questions, f"{r.avg_at_k:.4f}", f"{r.pass_at_k:.4f}"]
            for r in evaluation.benchmarks
        ],
    )


def _envs(
    policy: Policy,
    pool: Path | None,
    env_ids: str | None,
    levels: str | None,
    count: int,
    seed: int,
    batch: int,
    out: Path,
    backend: str,
    as_json: bool,
) -> None:
    from scaler.catalog import available_envs, select_envs
    from scaler.evaluate.directory import evaluate_envs_into
    from scaler.evaluate.envs import render_markdown

    plugins = app.plugins_of_run()
    envs = available_envs(plugins, pool)
    if env_ids:
        envs = select_envs(envs, [e.strip() for e in env_ids.split(",") if e.strip()])
    chosen = app.parse_levels(levels)
    with app.open_sandbox(backend) as sandbox, app.progress_bar() as bar:
        total = sum(len(chosen or range(len(env.levels))) for env in envs) * count
        task = bar.add_task("eval", total=total, status=policy.name)

        def advance(_: dict[str, Any]) -> None:
            bar.update(task, advance=1)

        evaluation = evaluate_envs_into(
            out,
            policy,
            plugins,
            sandbox,
            envs=envs,
            levels=chosen,
            n=count,
            seed=seed,
            on_result=advance,
            batch=batch,
        )
    if as_json:
        app.print_json(evaluation.to_dict())
    else:
        click.echo(render_markdown(evaluation))


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(eval_command)

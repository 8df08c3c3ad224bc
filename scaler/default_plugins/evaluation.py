"""The policies `scaler eval` evaluates, as plugins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scaler.hookspecs import hookimpl

if TYPE_CHECKING:
    from rich.progress import TaskID

    from scaler.evaluate.envs import EnvEvaluation
    from scaler.evaluate.policies import Policy
    from scaler.plugins import Plugins


def openai_policy(model: str, **options: Any) -> Policy:
    from scaler.evaluate.policies import OpenAIPolicy

    return OpenAIPolicy(model, **options)


def transformers_policy(model: str, **options: Any) -> Policy:
    from scaler.evaluate.transformers_policy import TransformersPolicy

    return TransformersPolicy(model, **options)


def vllm_policy(model: str, **options: Any) -> Policy:
    from scaler.evaluate.vllm_policy import VLLMPolicy

    return VLLMPolicy(model, **options)


@hookimpl
def scaler_register_policies(register: Any) -> None:
    register("openai", openai_policy)
    register("hf", transformers_policy)
    register("vllm", vllm_policy)


def _accuracy_plot(evaluation: EnvEvaluation, out: Path) -> Path:
    """Accuracy against level, one line per env, with the Wilson intervals as bands."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=110, layout="tight")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for env in evaluation.envs:
        levels = [r.level for r in env.levels]
        axes.plot(levels, [r.acc for r in env.levels], marker="o", label=env.env_id)
        axes.fill_between(
            levels, [r.low for r in env.levels], [r.high for r in env.levels], alpha=0.15
        )
    axes.axhline(0.5, color="grey", linewidth=0.8, linestyle="--")
    axes.set(xlabel="level", ylabel="accuracy", ylim=(-0.02, 1.02), title=evaluation.policy)
    if len(evaluation.envs) <= 12:
        axes.legend(fontsize=8)
    figure.savefig(out)
    return out


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    from scaler.commands import common as app

    @cli.command("eval")
    @click.argument("policy_spec", metavar="NAME:MODEL")
    @click.option(
        "--policy-option",
        "options",
        multiple=True,
        metavar="KEY=VALUE",
        help="A policy option, JSON where it parses. All: temperature (0.6), top_p (0.95), "
        "max_tokens. openai: base_url, api_key, concurrency ... hf: seed, device, dtype, "
        "chat_template_kwargs. vllm: seed, chat_template_kwargs, engine options "
        "(tensor_parallel_size ...).",
    )
    @app.pool_option
    @click.option("--envs", "env_ids", help="Comma-separated env ids (default: all).")
    @click.option("--levels", help="Comma-separated levels (default: every level).")
    @click.option("-n", "count", type=click.IntRange(min=1), default=8, show_default=True,
                  help="Instances per (env, level).")  # fmt: skip
    @click.option("--seed", type=int, default=0, show_default=True)
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
        from scaler.synth.llm import parse_llm_spec

        plugins = app.plugins_of_run()
        name, model = parse_llm_spec(policy_spec)
        factory = plugins.get("policies", name)
        try:
            policy = factory(model, **app.key_values(options, "--policy-option"))
        except TypeError as exc:
            raise click.BadParameter(
                f"policy {name!r} does not take these options: {exc}",
                param_hint="--policy-option",
            ) from exc
        out.mkdir(parents=True, exist_ok=True)
        if bench_files:
            _bench(policy, bench_files, k, out, as_json)
        else:
            _envs(policy, plugins, pool, env_ids, levels, count, seed, out, backend, as_json)


def _bench(policy: Policy, files: tuple[Path, ...], k: int, out: Path, as_json: bool) -> None:
    from scaler.commands import common as app
    from scaler.evaluate.avg_at_k import evaluate_benchmark
    from scaler.evaluate.benchmarks import load_benchmark

    benchmarks = [load_benchmark(path) for path in files]
    results = []
    with app.progress_bar() as bar:
        for benchmark in benchmarks:
            task = bar.add_task(benchmark.name, total=len(benchmark.items), status=f"k={k}")

            def advance(n: int, task: TaskID = task) -> None:
                bar.update(task, advance=n)

            results.append(
                evaluate_benchmark(
                    policy,
                    benchmark,
                    k,
                    out / "results.jsonl",
                    advance,
                )
            )
    rows = [r.to_dict() for r in results]
    run = {"policy": policy.name, "settings": policy.settings, "benchmarks": rows}
    (out / "bench.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    if as_json:
        app.print_json(run)
        return
    app.table(
        f"{policy.name}: avg@{k}",
        ["benchmark", "questions", f"avg@{k}", f"pass@{k}"],
        [[r.name, r.questions, f"{r.avg_at_k:.4f}", f"{r.pass_at_k:.4f}"] for r in results],
    )


def _envs(
    policy: Policy,
    plugins: Plugins,
    pool: Path | None,
    env_ids: str | None,
    levels: str | None,
    count: int,
    seed: int,
    out: Path,
    backend: str,
    as_json: bool,
) -> None:
    from scaler.catalog import available_envs
    from scaler.commands import common as app
    from scaler.errors import UnknownName
    from scaler.evaluate.envs import evaluate_envs, render_markdown
    from scaler.instances import InstanceFactory

    envs = available_envs(plugins, pool)
    if env_ids:
        by_id = {env.id: env for env in envs}
        wanted = [e.strip() for e in env_ids.split(",") if e.strip()]
        for env_id in wanted:
            if env_id not in by_id:
                raise UnknownName("environment", env_id, list(by_id))
        envs = [by_id[e] for e in wanted]
    chosen = app.parse_levels(levels)
    with app.open_sandbox(backend) as sandbox, app.progress_bar() as bar:
        total = sum(len(chosen or range(len(env.levels))) for env in envs) * count
        task = bar.add_task("eval", total=total, status=policy.name)
        evaluation = evaluate_envs(
            policy,
            envs,
            InstanceFactory(sandbox, plugins),
            plugins,
            levels=chosen,
            n=count,
            seed=seed,
            results_path=out / "results.jsonl",
            on_result=lambda _: bar.update(task, advance=1),
        )
    plot = _accuracy_plot(evaluation, out / "accuracy.png")
    (out / "report.md").write_text(
        render_markdown(evaluation) + f"\n![accuracy by level]({plot.name})\n", encoding="utf-8"
    )
    data = evaluation.to_dict()
    (out / "evaluation.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if as_json:
        app.print_json(data)
    else:
        click.echo(render_markdown(evaluation))

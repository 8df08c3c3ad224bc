"""``scaler bench``: the throughput figures we claim, measured against their baselines."""

from __future__ import annotations

from pathlib import Path

import click

from scaler.commands.common import (
    backend_option,
    json_option,
    key_values,
    make_policy,
    open_sandbox,
    parse_integers,
    plugins_of_run,
    policy_option,
    pool_format_option,
    print_json,
    sandbox_option,
    trials_option,
)
from scaler.hookspecs import hookimpl

#: What the throughput benchmarks measure: a backend, or a baseline on its own as if it were one.
measured_backend_option = click.option(
    "--backend",
    default="auto",
    show_default=True,
    help="The sandbox backend to measure (auto, docker, process, or a plugin's), or a baseline "
    "on its own: naive-docker, naive-subprocess, in-process.",
)


@click.group()
def bench() -> None:
    """Measure throughput against the baselines we claim to beat."""


@bench.command("instances")
@measured_backend_option
@click.option(
    "-n",
    "count",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Instances to generate and verify.",
)
@click.option(
    "--baseline-count",
    type=click.IntRange(min=1),
    default=40,
    show_default=True,
    help="Instances for the baseline (it is slow).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Sandbox workers (default: one per core).",
)
@json_option
@click.option(
    "--levels",
    type=click.Choice(["mixed", "middle"]),
    default="mixed",
    show_default=True,
    help="Levels drawn uniformly from each table, or every env at its middle level.",
)
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Times the backend and the in-process limit are measured in turn; the round with "
    "the median share is reported (the others under `rounds`).",
)
@sandbox_option
def bench_instances(
    backend: str,
    count: int,
    baseline_count: int,
    workers: int | None,
    levels: str,
    rounds: int,
    sandbox_options: tuple[str, ...],
    as_json: bool,
) -> None:
    """Verified instances per second over the builtin pack, against a spawn-per-call baseline
    and as a share of the in-process limit.

    The baseline starts something new per generator and per solution call, with as many calls
    in flight as the backend has workers: one hardened `docker run` (naive-docker) for the
    docker backend, a fresh interpreter (naive-subprocess) for the others. The limit runs the
    same requests with no sandbox at all, Python programs exec-ed in this process (in-process),
    scaled to the backend's workers. The backend and the limit are measured in turn, round
    after round, so that each round's share is taken under the same load on the machine.
    """
    from scaler.perf.instances import run_instance_benchmark

    plugins = plugins_of_run()
    options = key_values(sandbox_options, "--sandbox-option")
    report = run_instance_benchmark(
        plugins,
        lambda name: open_sandbox(name, workers, options if name == backend else None),
        backend,
        count,
        baseline_count,
        workers,
        levels,
        rounds,
    )
    report["sandbox_options"] = options
    if as_json:
        print_json(report)
    else:
        click.echo(
            f"{report['backend']}: {report['instances_per_s']:.1f} instances/s "
            f"(p50 {report['p50_ms']:.1f} ms, p99 {report['p99_ms']:.1f} ms per instance batch "
            f"share); baseline {report['baseline']['name']}: "
            f"{report['baseline']['instances_per_s']:.1f} instances/s; ratio {report['ratio']:.1f}x"
            f"; {report['share_of_in_process']:.0%} of the in-process limit "
            f"({report['limit_instances_per_s']:.0f} instances/s: "
            f"{report['in_process']['instances_per_s']:.0f} x {report['workers']} workers; "
            f"median of {len(report['rounds'])} rounds: "
            + ", ".join(f"{r['share_of_in_process']:.0%}" for r in report["rounds"])
            + ")"
        )


@bench.command("curriculum")
@click.option(
    "--pool-size",
    type=click.IntRange(min=2),
    default=2739,
    show_default=True,
    help="Environments in the synthetic pool for the update cost (2,739: the full SCALER pool).",
)
@click.option("--window", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--backend", default="process", show_default=True, help="Sandbox for the steps.")
@json_option
def bench_curriculum(pool_size: int, window: int, backend: str, as_json: bool) -> None:
    """Curriculum bookkeeping per step, and simulated steps per second with real instances.

    The update part drives the registered controller and curation over a synthetic pool exactly
    as the scheduler does (target: <= 5 ms per step at 2,739 envs, W = 64). The step part runs
    the simulator on the builtin pack through the sandbox, against the paper's pattern of making
    instances one at a time in the trainer loop.
    """
    from scaler.perf.curriculum import run_curriculum_benchmark

    with open_sandbox(backend) as sandbox:
        report = run_curriculum_benchmark(
            plugins_of_run(), sandbox, pool_size=pool_size, window=window
        )
    if as_json:
        print_json(report)
        return
    steps = report["steps"]
    click.echo(
        f"update: {report['ms_per_step']:.2f} ms per step ({report['pool_size']} envs, "
        f"{report['active']} active); steps: {report['steps_per_s']:.2f}/s against "
        f"{steps['baseline']['steps_per_s']:.2f}/s for {steps['baseline']['name']} "
        f"({steps['ratio']:.1f}x)"
    )


@bench.command("validate")
@click.argument("pool", type=click.Path(exists=True, path_type=Path))
@pool_format_option
@trials_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Environments validated at once, as scaler validate's.",
)
@backend_option
@click.option("--compare", help="A second backend, measured after the first in this process.")
@sandbox_option
@json_option
def bench_validate(
    pool: Path,
    fmt: str | None,
    trials: int,
    workers: int,
    backend: str,
    compare: str | None,
    sandbox_options: tuple[str, ...],
    as_json: bool,
) -> None:
    """Seconds per environment to validate POOL, as scaler validate does (every check).

    The verdicts are hashed without their timings (verdicts_sha256): a second backend
    (--compare) or a second run must reach the same. The floor (floor_s_per_env) is the CPU
    time the runs report, over the cores the sandbox uses: no backend gets below it.

    \b
    Examples:
      scaler bench validate ../shared/data/scaler-official/SCALER-8.json --backend docker
      scaler bench validate POOL --backend docker --sandbox-option transport=exec --compare docker
    """
    from scaler.perf.validate_pool import run_pool_validation_benchmark

    options = key_values(sandbox_options, "--sandbox-option")
    report = run_pool_validation_benchmark(
        plugins_of_run(),
        pool,
        lambda name: open_sandbox(name, options=options),
        backend,
        compare,
        fmt,
        trials,
        workers,
        make_compare=open_sandbox,
    )
    report["sandbox_options"] = options
    if as_json:
        print_json(report)
        return
    line = (
        f"{report['backend']}: {report['seconds_per_env']:.2f} s per environment "
        f"({report['envs']} envs in {report['seconds']:.1f} s, {report['passed']} pass); "
        f"the programs' own CPU alone {report['floor_s_per_env']:.2f} s per environment, "
        f"{report['other_ms_per_run']:.2f} ms per run beyond it; "
        f"verdicts {report['verdicts_sha256'][:12]}"
    )
    if compare is not None:
        other = report["compare"]
        same = "identical" if report["same_verdicts"] else "DIFFERENT"
        line += (
            f"; {other['backend']}: {other['seconds_per_env']:.2f} s per environment; "
            f"ratio {report['ratio']:.2f}x; verdicts {same}"
        )
    click.echo(line)


@bench.command("runs")
@measured_backend_option
@click.option(
    "-n",
    "runs",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Runs per language, on each side.",
)
@click.option(
    "--batch", type=click.IntRange(min=1), default=200, show_default=True, help="Jobs per batch."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Sandbox workers: with one, the overhead is what a run costs a core.",
)
@sandbox_option
@json_option
def bench_runs(
    backend: str, runs: int, batch: int, workers: int, sandbox_options: tuple[str, ...],
    as_json: bool,
) -> None:  # fmt: skip
    """Per-run overhead of a backend on trivial programs (echo a line), Python and C++.

    The same programs also run directly, in the same process: Python exec-ed in it, C++ as a
    spawn of the same binary. The overhead is the difference of the per-run medians.
    """
    from scaler.perf.instances import open_bench_sandbox
    from scaler.perf.runs import TRIVIAL, run_runs_benchmark

    options = key_values(sandbox_options, "--sandbox-option")
    with open_bench_sandbox(
        backend, lambda name: open_sandbox(name, workers, options), workers
    ) as box:
        report = run_runs_benchmark(box, runs, batch)
    report["sandbox_options"] = options
    if as_json:
        print_json(report)
        return
    click.echo(
        f"{report['backend']} ({report['workers']} workers): "
        + "; ".join(
            f"{language} {report[language]['per_run_ms_p50']:.2f} ms per run, "
            f"{report[language]['direct_ms_p50']:.3f} ms direct, "
            f"overhead {report[language]['overhead_ms_p50']:.2f} ms"
            for language in TRIVIAL
        )
    )


@bench.command("policy")
@click.argument("policy_spec", metavar="NAME:MODEL")
@policy_option
@click.option(
    "-n",
    "count",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Prompts (builtin environments' instances), one sample each, on each side.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Which prompts.")
@json_option
def bench_policy(policy_spec: str, options: tuple[str, ...], count: int, seed: int,
                 as_json: bool) -> None:  # fmt: skip
    """Prompts and new tokens a second of a policy: one prompt per call, then all of them in
    one call (which hf generates batch_size rows at a time), on the same prompts.

    Sampling is seeded per prompt, so both sides should give the same answers: the report
    says whether they did.

    \b
    Examples:
      scaler bench policy hf:models/SmolLM2-135M-Instruct --policy-option max_tokens=256
      scaler bench policy hf:PATH -n 256 --policy-option batch_size=128 --json
    """
    from scaler.perf.policy import bench_prompts, run_policy_benchmark

    policy = make_policy(policy_spec, options)
    report = run_policy_benchmark(policy, bench_prompts(plugins_of_run(), count, seed))
    if as_json:
        print_json(report)
        return
    one, batched = report["one_at_a_time"], report["batched"]
    click.echo(
        f"{report['policy']}: {report['prompts']} prompts; one at a time "
        f"{one['prompts_per_s']:.2f}/s, all in one call {batched['prompts_per_s']:.2f}/s "
        f"({report['speedup']:.1f}x); same answers: {report['same_answers']}"
    )


@bench.command("ray-nodes")
@click.option(
    "--nodes",
    "node_counts",
    default="1,2",
    show_default=True,
    help="Node counts to measure the ray backend on, comma-separated.",
)
@click.option(
    "--local-nodes",
    type=click.IntRange(min=1),
    help="Start this many Ray nodes on this machine for the run (they share its cores); "
    "default: join the cluster RAY_ADDRESS or --ray-address names.",
)
@click.option(
    "--cpus-per-node",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="CPUs each --local-nodes node declares.",
)
@click.option(
    "-n",
    "count",
    type=click.IntRange(min=1),
    default=648,
    show_default=True,
    help="Instances of the builtin pack per measurement.",
)
@click.option(
    "--levels",
    type=click.Choice(["middle", "mixed"]),
    default="middle",
    show_default=True,
    help="Each env at its middle level, or at levels drawn from its table.",
)
@backend_option
@json_option
def bench_ray_nodes(
    node_counts: str,
    local_nodes: int | None,
    cpus_per_node: int,
    count: int,
    levels: str,
    backend: str,
    as_json: bool,
) -> None:
    """Instances a second through the ray backend on 1, 2, ... nodes, against the node's own
    backend (--backend) alone, in one run.

    \b
    On a cluster (docs/sandbox.md, "On a Ray cluster"):
      scaler bench ray-nodes --ray-address auto --nodes 1,2,4,8 --json
    On this machine (a check of the benchmark and of Ray's overhead, not of scaling):
      scaler bench ray-nodes --local-nodes 2 --backend process
    """
    import contextlib

    from scaler.perf.ray_nodes import local_cluster, run_ray_nodes_benchmark

    counts = parse_integers(node_counts, "--nodes")
    if not counts or counts[0] < 1:
        raise click.BadParameter("give node counts >= 1, e.g. 1,2,4", param_hint="--nodes")
    cluster = local_cluster(local_nodes, cpus_per_node) if local_nodes else contextlib.nullcontext()
    with cluster:
        report = run_ray_nodes_benchmark(plugins_of_run(), counts, count, levels, backend)
    if as_json:
        print_json(report)
        return
    local = report["local"]
    click.echo(
        f"{local['backend']} alone: {local['instances_per_s']:.0f}/s ({local['workers']} workers)"
    )
    for step in report["ray"]:
        click.echo(
            f"ray on {step['nodes']} nodes ({step['workers']} workers): "
            f"{step['instances_per_s']:.0f}/s, {step['speedup_over_local']:.2f}x"
        )


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(bench)

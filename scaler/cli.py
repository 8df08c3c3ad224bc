"""The ``scaler`` command line: parse, call the library, print (data to stdout, logs to stderr)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click
import structlog

from scaler import __version__, logs
from scaler.catalog import available_envs, find_env
from scaler.commands.common import (
    backend_option,
    build_image_with_progress,
    built_line,
    json_option,
    open_sandbox,
    parse_levels,
    plugins_of_run,
    pool_option,
    print_json,
    progress_bar,
    table,
)
from scaler.curriculum.report import format_level, format_value
from scaler.errors import ConfigError, ScalerError, UnknownName
from scaler.instances import InstanceFactory, check_level
from scaler.model import Instance, Language, Limits, Program
from scaler.plugins import REGISTRIES, Plugins, use_process_plugins
from scaler.pool import write_pool
from scaler.sandbox.jobs import Job
from scaler.sandbox.selection import diagnose
from scaler.verify import verify

if TYPE_CHECKING:
    pass

log = structlog.get_logger("scaler.cli")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scaler")
@click.option(
    "--plugin",
    "extra_plugins",
    multiple=True,
    metavar="MODULE_OR_PATH",
    help="Load a plugin module that is not installed (repeatable), like `pytest -p`.",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option(
    "--log-format", type=click.Choice(["console", "json"]), default="console", show_default=True
)
@click.pass_context
def cli(ctx: click.Context, extra_plugins: tuple[str, ...], verbose: int, log_format: str) -> None:
    """Build verifiable reasoning environments from programming problems, and sample them.

    \b
    Start here:
      scaler envs list                       the installed environments
      scaler envs sample lis-length --level 3 --seed 1
      scaler plugins                         what is installed, and who registered what

    Every command that lists things takes --json. Errors in input files name the file, the
    record, the field and the value, and exit with status 2.
    """
    logs.configure(verbose, log_format)
    ctx.ensure_object(dict)
    if "plugins" not in ctx.obj:
        ctx.obj["plugins"] = Plugins.load(extra_plugins)
        use_process_plugins(ctx.obj["plugins"])


@cli.group()
def envs() -> None:
    """List, inspect and sample environments."""


@envs.command("list")
@pool_option
@json_option
def envs_list(pool: Path | None, as_json: bool) -> None:
    """List environments: id, name, output type, number of levels."""
    found = available_envs(plugins_of_run(), pool)
    rows = [
        {
            "id": env.id,
            "name": env.name,
            "output_type": env.output_type,
            "levels": len(env.levels),
            "version": env.version,
        }
        for env in sorted(found, key=lambda e: e.id)
    ]
    if as_json:
        print_json(rows)
        return
    table(
        f"{len(rows)} environments",
        ["id", "name", "output type", "levels"],
        [[r["id"], r["name"], r["output_type"], r["levels"]] for r in rows],
    )


@envs.command("show")
@click.argument("env_id", metavar="ENV")
@pool_option
@json_option
def envs_show(env_id: str, pool: Path | None, as_json: bool) -> None:
    """Show one environment: statement, parameters, levels, solutions."""
    env = find_env(plugins_of_run(), env_id, pool)
    if as_json:
        print_json(env.to_dict())
        return
    click.echo(f"{env.name}  ({env.id}, version {env.version})")
    click.echo(f"output type: {env.output_type}; source: {env.provenance.source}")
    click.echo("\n" + env.statement + "\n\nOutput: " + env.output_spec + "\n")
    click.echo(
        "scale parameters: "
        + ", ".join(f"{p.name} in [{p.min}, {p.max}] (base {p.base:g})" for p in env.scale_params)
    )
    table(
        f"{len(env.levels)} levels",
        ["level", "offset", *(p.name for p in env.scale_params)],
        [[lvl, off, *env.params_at(lvl).values()] for lvl, off in enumerate(env.levels)],
    )
    click.echo(
        "solutions: "
        + ", ".join(s.language for s in env.solutions)
        + f"; limits: {env.limits.cpu_s:g} s CPU, {env.limits.memory_mb} MB"
    )


@envs.command("sample")
@click.argument("env_id", metavar="ENV")
@pool_option
@click.option("--level", "-l", type=int, required=True, help="Difficulty level (0 = easiest).")
@click.option("--seed", "-s", type=int, default=0, show_default=True, help="First seed.")
@click.option(
    "-n",
    "count",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many instances (seeds SEED .. SEED+N-1).",
)
@backend_option
@json_option
def envs_sample(
    env_id: str, pool: Path | None, level: int, seed: int, count: int, backend: str, as_json: bool
) -> None:
    """Generate instances of ENV at a level: input, ground truth and the prompt.

    The same (environment version, level, seed) always gives the same instance, byte for byte.
    """
    plugins = plugins_of_run()
    env = find_env(plugins, env_id, pool)
    check_level(env, level)
    with open_sandbox(backend) as sandbox:
        instances = InstanceFactory(sandbox, plugins).sample(env, level, seed, count)
    if as_json:
        print_json([i.to_dict() for i in instances] if count > 1 else instances[0].to_dict())
        return
    for instance in instances:
        click.echo(
            f"== {instance.env_id} level {instance.level} seed {instance.seed} "
            f"params {instance.params}"
        )
        for message in instance.messages:
            click.echo(f"-- {message['role']}\n{message['content']}")
        click.echo(f"-- answer\n{instance.answer}\n")


@cli.command("export")
@click.argument(
    "pool_path", metavar="[POOL]", required=False, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="The parquet file to write, in verl's row schema.",
)  # fmt: skip
@click.option(
    "--levels",
    help="Comma-separated levels (default: every level of each env; levels above an env's "
    "top are skipped for it).",
)
@click.option("-n", "count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Instances per (env, level): seeds SEED .. SEED+N-1.")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
@backend_option
@json_option
def export_command(
    pool_path: Path | None,
    output: Path,
    levels: str | None,
    count: int,
    seed: int,
    backend: str,
    as_json: bool,
) -> None:
    """Write a static verl dataset: N instances per level of every environment of POOL.

    \b
    For plain verl without the curriculum, and for evaluation sets per level. Rows follow
    verl's schema (data_source, prompt, ability, reward_model, extra_info); extra_info carries
    env, level and seed, which scaler.train.reward.compute_score reads. With no POOL, every
    installed environment.
    """
    from scaler.train.export import export_parquet, export_requests

    plugins = plugins_of_run()
    envs = available_envs(plugins, pool_path)
    requests = export_requests(envs, parse_levels(levels), count, seed)
    with open_sandbox(backend) as sandbox, progress_bar() as bar:
        task = bar.add_task("export", total=len(requests), status=str(output))
        written = export_parquet(
            InstanceFactory(sandbox, plugins),
            requests,
            output,
            lambda n: bar.update(task, advance=n),
        )
    if as_json:
        print_json({"output": str(output), "rows": written, "envs": len(envs)})
    else:
        click.echo(f"{written} rows from {len(envs)} environments written to {output}")


@cli.group()
def pool() -> None:
    """Convert and write environment pools."""


@pool.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    required=True,
    help="Importer name (see `scaler plugins`), e.g. scaler-official.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The native JSONL pool to write.",
)
@json_option
def pool_import(file: Path, fmt: str, output: Path, as_json: bool) -> None:
    """Convert a foreign pool FILE into a native JSONL pool.

    Entries that cannot be converted are reported with the reason; the others are written.
    """
    result = plugins_of_run().get("importers", fmt)(file)
    if result.envs:
        write_pool(result.envs, output)
    summary = {
        "output": str(output),
        "converted": [env.id for env in result.envs],
        "rejected": [{"key": r.key, "reason": r.reason} for r in result.rejected],
    }
    if as_json:
        print_json(summary)
    else:
        if result.envs:
            click.echo(f"wrote {len(result.envs)} environments to {output}")
        for rejection in result.rejected:
            click.echo(f"not converted: {rejection.key}: {rejection.reason}")
    if not result.envs:
        raise ScalerError(f"{file}: no entry could be converted; {output} was not written")


@cli.group()
def sandbox() -> None:
    """Run programs in the sandbox."""


@sandbox.command("build-image")
@click.option("--tag", default=None, help="Image tag (default: scaler-sandbox:<scaler version>).")
@click.option(
    "--offline",
    "mode",
    flag_value="offline",
    help="Build from a debootstrap root filesystem (no registry needed).",
)
@click.option("--online", "mode", flag_value="online", help="Build from python:3.11-slim.")
@click.option("--force", is_flag=True, help="Rebuild even when the image is current.")
def sandbox_build_image(
    tag: str | None, mode: Literal["offline", "online"] | None, force: bool
) -> None:
    """Build the Docker sandbox image (Python 3, g++, the runner).

    By default online when the base image can be pulled, else offline. An image built for
    another scaler or runner version is stale and is rebuilt.
    """
    from scaler.sandbox.image import docker_client, image_status

    status = image_status(docker_client(), tag)
    if status.usable and not force:
        click.echo(f"{status.tag} is current (use --force to rebuild)")
        return
    if status.exists:
        log.info("rebuilding", tag=status.tag, reason=status.stale_reason or "--force")
    click.echo(built_line(build_image_with_progress(tag, mode or "auto")))


@sandbox.command("doctor")
@json_option
def sandbox_doctor(as_json: bool) -> None:
    """Say which sandbox backends can run here, and which one `auto` picks and why."""
    checks, choice = diagnose(plugins_of_run())
    if as_json:
        print_json(
            {
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
                "auto": {"backend": choice.backend, "reason": choice.reason},
            }
        )
        return
    for check in checks:
        click.echo(f"{'ok ' if check.ok else 'no '} {check.name}: {check.detail}")
    click.echo(f"auto picks: {choice.backend} ({choice.reason})")
    if choice.backend == "process":
        click.echo("note: the process backend is not a security boundary against hostile code")


@sandbox.command("run")
@click.argument("program", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--language",
    type=click.Choice(["python", "cpp"]),
    default=None,
    help="Default: from the file extension (.py, .cpp/.cc).",
)
@click.option("--stdin", "stdin_file", type=click.File("r"), help="File to feed on stdin.")
@click.option(
    "--timeout",
    type=float,
    default=10.0,
    show_default=True,
    help="CPU seconds (wall clock: twice that).",
)
@click.option("--memory-mb", type=int, default=1024, show_default=True)
@backend_option
@json_option
def sandbox_run(
    program: Path,
    language: Language | None,
    stdin_file: Any,
    timeout: float,
    memory_mb: int,
    backend: str,
    as_json: bool,
) -> None:
    """Run one PROGRAM under the sandbox's limits and print the result."""
    if language is None:
        by_suffix: dict[str, Language] = {
            ".py": "python",
            ".cpp": "cpp",
            ".cc": "cpp",
            ".cxx": "cpp",
        }
        language = by_suffix.get(program.suffix)
        if language is None:
            raise click.BadParameter(
                f"cannot tell the language of {program.name}; pass --language", param_hint="PROGRAM"
            )
    job = Job(
        Program(language, program.read_text(encoding="utf-8")),
        stdin_file.read() if stdin_file else "",
        Limits(cpu_s=timeout, wall_s=2 * timeout, memory_mb=memory_mb),
    )
    with open_sandbox(backend, workers=1) as box:
        (result,) = box.run_batch([job])
        ran_on = box.name
    if as_json:
        print_json({**result.to_dict(), "backend": ran_on})
    else:
        click.echo(
            f"status: {result.status} (exit {result.exit_code}), "
            f"{result.wall_s:.3f} s wall, {result.cpu_s:.3f} s CPU, backend {ran_on}"
        )
        if result.stdout:
            click.echo("-- stdout\n" + result.stdout.rstrip("\n"))
        if result.stderr:
            click.echo("-- stderr\n" + result.stderr.rstrip("\n"))
    if not result.ok:
        sys.exit(1)


@cli.command("verify")
@click.option("--answer", required=True, help="The model's response text (with \\boxed{...}).")
@click.option(
    "--instance",
    "instance_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An instance as printed by `scaler envs sample --json`.",
)
@json_option
def verify_command(answer: str, instance_file: Path, as_json: bool) -> None:
    """Check an answer against an instance; exits 1 when it is wrong."""
    try:
        data = json.loads(instance_file.read_text(encoding="utf-8"))
        if isinstance(data, list):  # `envs sample -n N --json` prints a list: its first
            data = data[0] if data else None
        instance = Instance.from_dict(data)
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise ScalerError(
            f"{instance_file}: not an instance ({type(exc).__name__}: {exc})"
        ) from exc
    try:
        verdict = verify(answer, instance, plugins_of_run())
    except UnknownName as exc:
        raise ScalerError(f"{instance_file}: field 'output_type': {exc}") from exc
    if as_json:
        print_json(verdict.to_dict())
    else:
        mark = "correct" if verdict.correct else "wrong"
        click.echo(
            f"{mark}: {verdict.reason} (extracted {verdict.extracted!r}, "
            f"expected {verdict.expected!r})"
        )
    if not verdict.correct:
        sys.exit(1)


@cli.command("plugins")
@json_option
def plugins_command(as_json: bool) -> None:
    """List loaded plugins: version, origin, hooks, and the names each registered."""
    plugins = plugins_of_run()
    registered: dict[str, dict[str, list[str]]] = {}
    replaced: dict[str, list[str]] = {}
    for kind in REGISTRIES:
        for entry in plugins.registry(kind).values():
            registered.setdefault(entry.plugin, {}).setdefault(kind, []).append(entry.name)
            for loser in entry.replaced:
                replaced.setdefault(loser, []).append(f"{kind}:{entry.name}")
    rows: list[dict[str, Any]] = [
        {
            "name": info.name,
            "version": info.version,
            "origin": info.origin,
            "module": info.module,
            "hooks": list(info.hooks),
            "registered": registered.get(info.name, {}),
            "replaced_by_later_plugins": replaced.get(info.name, []),
        }
        for info in plugins.info()
    ]
    if as_json:
        print_json(rows)
        return
    table(
        f"{len(rows)} plugins",
        ["name", "version", "origin", "hooks", "registered"],
        [
            [
                r["name"],
                r["version"] or "-",
                r["origin"],
                "\n".join(r["hooks"]),
                "\n".join(
                    f"{kind}: {', '.join(names) if len(names) <= 6 else f'{len(names)} names'}"
                    for kind, names in r["registered"].items()
                ),
            ]
            for r in rows
        ],
    )


@cli.group()
def bench() -> None:
    """Measure throughput against the baselines we claim to beat."""


@bench.command("instances")
@click.option(
    "--backend",
    default="auto",
    show_default=True,
    help="The sandbox backend to measure (auto, docker, process, or a plugin's), or a baseline "
    "on its own: naive-docker, naive-subprocess.",
)
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
def bench_instances(
    backend: str, count: int, baseline_count: int, workers: int | None, levels: str, as_json: bool
) -> None:
    """Verified instances per second over the builtin pack, against a spawn-per-call baseline.

    The baseline starts something new per generator and per solution call, with as many calls
    in flight as the backend has workers: one hardened `docker run` (naive-docker) for the
    docker backend, a fresh interpreter (naive-subprocess) for the others.
    """
    from scaler.perf.instances import run_instance_benchmark

    plugins = plugins_of_run()
    report = run_instance_benchmark(
        plugins,
        lambda name: open_sandbox(name, workers),
        backend,
        count,
        baseline_count,
        workers,
        levels,
    )
    if as_json:
        print_json(report)
    else:
        click.echo(
            f"{report['backend']}: {report['instances_per_s']:.1f} instances/s "
            f"(p50 {report['p50_ms']:.1f} ms, p99 {report['p99_ms']:.1f} ms per instance batch "
            f"share); baseline {report['baseline']['name']}: "
            f"{report['baseline']['instances_per_s']:.1f} instances/s; ratio {report['ratio']:.1f}x"
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


@cli.command("run")
@click.argument(
    "config_file",
    metavar="[CONFIG.toml]",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    help="Steps to run (default: the config's run.steps; with --resume: this many more, "
    "default up to run.steps).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The run directory (default: a new one under the config's run.out, i.e. runs/).",
)
@click.option(
    "--resume",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="Continue the run saved in DIR from its last finished step.",
)
@json_option
def run_command(
    config_file: Path | None,
    steps: int | None,
    out: Path | None,
    resume: Path | None,
    as_json: bool,
) -> None:
    """Run a curriculum: the pool, sandbox, controller, curation and trainer named in CONFIG.

    \b
    With no CONFIG, the embedded default: every installed environment (the builtin pack),
    sandbox auto, the paper's controller (scaler) and curation (scaler-window, 8 active), the
    simulated learner, 200 steps, written under runs/. configs/default.toml spells it out;
    copy it to change anything. Every name resolves through the plugin registries, so a
    plugin's controller is used by writing its name (load an uninstalled one with --plugin).

    \b
    The run directory gets metrics.jsonl, state.json (saved after every step: a killed run
    loses nothing, continue it with --resume DIR), report.md and PNG plots.

    \b
    A trainer that drives its own loop (trainer = "verl") is launched as by `scaler train`:
    --steps sets run.steps, --out verl's checkpoint directory (run the same command again to
    resume); `scaler train` also takes verl overrides and --dry-run.
    """
    from scaler.config import RunConfig

    if resume is not None and (config_file is not None or out is not None):
        raise click.UsageError("--resume continues a saved run with its own config and directory")
    config = RunConfig.load(config_file) if config_file else RunConfig()
    with _named_in(config):
        if resume is None and _launch_loop_owner(config, steps, out):
            return
        _execute(config, out, resume, steps, as_json)


#: The config field that names each kind of component looked up by name outside
#: ``Plugins.build`` (which names the field itself), for errors about an unknown name.
_NAMING_FIELDS = {
    "environment": "pool.envs",
    "prompt": "prompt.name",
    "trainer": "trainer.name",
}


@contextlib.contextmanager
def _named_in(config: Any) -> Iterator[None]:
    """An unknown name that a config file gave is reported with the file and the field."""
    try:
        yield
    except UnknownName as exc:
        field = _NAMING_FIELDS.get(exc.kind)
        if config.source is None or field is None:
            raise
        raise ConfigError(str(exc), path=config.source, field=field) from exc


def _launch_loop_owner(config: Any, steps: int | None, out: Path | None) -> bool:
    """Hand the run to a trainer that drives its own loop (verl); False for the others."""
    from scaler.trainer import LoopOwner

    factory = plugins_of_run().get("trainers", config.trainer.name)
    if not isinstance(factory, LoopOwner):
        return False
    log.info("launching", trainer=config.trainer.name, steps=steps or config.steps)
    factory.launch(config, steps=steps, out=out, plugins=plugins_of_run().spec)
    return True


@cli.command("simulate")
@click.option("--steps", type=click.IntRange(min=1), default=200, show_default=True)
@click.option(
    "--controller", default="scaler", show_default=True, help="Difficulty controller by name."
)
@click.option(
    "--curation", default="scaler-window", show_default=True, help="Curation policy by name."
)
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Active environments (for window policies).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Prompts per step.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@pool_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run directory.")
@click.option(
    "--resume",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="Continue the run saved in DIR for --steps more steps, writing back into DIR.",
)
@click.option(
    "--compare",
    metavar="C1,C2,...",
    help="Run once per controller (or CONTROLLER@CURATION) and plot them side by side.",
)
@backend_option
@json_option
@click.pass_context
def simulate_command(
    ctx: click.Context,
    steps: int,
    controller: str,
    curation: str,
    window: int,
    batch_size: int,
    seed: int,
    pool: Path | None,
    out: Path | None,
    resume: Path | None,
    compare: str | None,
    backend: str,
    as_json: bool,
) -> None:
    """Train a simulated learner on real instances, to study controllers and curation.

    \b
    The learner's skill per environment grows when it practises near its frontier (groups
    whose rollouts disagree) and stalls far from it; some environments are unlearnable, some
    saturate, some stall (docs/concepts.md, "The simulator"). Its answers are scored by the
    real verifiers.

    \b
      scaler simulate --steps 300
      scaler simulate --compare scaler,elo,ratchet --out runs/compare
      scaler simulate --steps 50 --resume runs/20261125-101500
    """
    from scaler.config import Component, RunConfig
    from scaler.run import compare_configs

    if resume is not None:
        fixed = ("controller", "curation", "window", "batch_size", "seed", "pool", "out", "compare")
        given = [name for name in fixed if _given(ctx, name)]
        if given:
            raise click.UsageError(
                f"--resume continues the saved run with its own settings; drop --{given[0]}"
            )
        _execute(None, None, resume, steps, as_json, backend if _given(ctx, "backend") else None)
        return
    window_options = {} if curation == "all" else {"window": window}
    config = RunConfig(
        steps=steps,
        seed=seed,
        batch_size=batch_size,
        pool_paths=(str(pool),) if pool else (),
        sandbox=Component(backend),
        controller=Component(controller),
        curation=Component(curation, window_options),
        out="runs",
    )
    if compare:
        items = [item.strip() for item in compare.split(",") if item.strip()]
        _compare(compare_configs(config, items), out, as_json)
        return
    _execute(config, out, None, steps, as_json)


def _given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE


def _status(report: Any) -> str:
    return (
        f"acc {report.mean_accuracy:.2f}  informative {report.informative_fraction:.2f}  "
        f"active {len(report.active)}"
    )


def _execute(
    config: Any,
    out: Path | None,
    resume: Path | None,
    steps: int | None,
    as_json: bool,
    backend: str | None = None,
) -> None:
    """Start or resume a run, drive it with a progress bar, print the summary."""
    from scaler.run import Run, saved_config

    plugins = plugins_of_run()
    if resume is not None:
        saved = saved_config(resume)
        sandbox_name = backend or saved.sandbox.name
        sandbox_options = saved.sandbox.options if sandbox_name == saved.sandbox.name else {}
        source = saved.source
    else:
        sandbox_name, sandbox_options = config.sandbox.name, config.sandbox.options
        source = config.source
    with open_sandbox(sandbox_name, options=sandbox_options, source=source) as sandbox:
        if resume is not None:
            run = Run.resume(resume, plugins, sandbox, saved)
            todo = steps if steps else saved.steps - run.step
        else:
            run = Run.start(config, plugins, sandbox, out)
            todo = steps or config.steps
        try:
            log.info("run", directory=str(run.directory), from_step=run.step, steps=todo)
            if todo <= 0:
                info = run.finish()
            else:
                with progress_bar() as progress:
                    task = progress.add_task(f"step {run.step}", total=todo, status="")
                    first = run.step

                    def advance(report: Any) -> None:
                        progress.update(
                            task,
                            completed=report.step - first,
                            description=f"step {report.step}",
                            status=_status(report),
                        )

                    info = run.execute(todo, advance)
        finally:
            run.close()
    _print_summary(info, as_json)


def _print_summary(info: Any, as_json: bool) -> None:
    summary = dict(info.summary)
    per_env = summary.pop("per_env", {})
    if as_json:
        print_json(
            {
                "directory": str(info.directory),
                "steps": info.steps_done,
                "summary": summary,
                "envs": per_env,
                "files": [str(f) for f in info.files],
            }
        )
        return
    rows = [
        [
            env_id,
            data["steps_active"],
            f"{format_level(data['final_difficulty'])} / {format_level(data['max_level'])}",
            format_level(data["best_level"]),
            ", ".join(data["retirements"]) or "-",
        ]
        for env_id, data in sorted(per_env.items())
    ]
    table(
        f"{info.directory}: {info.steps_done} steps",
        ["env", "steps active", "difficulty / max", "best level", "retired"],
        rows,
    )
    retired = summary.get("retirements_by_reason", {})
    click.echo(
        f"mean accuracy {format_value(summary.get('mean_accuracy'))}; informative groups "
        f"{format_value(summary.get('informative_fraction'))} (last steps "
        f"{format_value(summary.get('informative_fraction_last'))}); retirements: "
        + (", ".join(f"{reason} {count}" for reason, count in sorted(retired.items())) or "none")
    )
    click.echo(f"report: {info.directory / 'report.md'}")


def _compare(configs: Mapping[str, Any], out: Path | None, as_json: bool) -> None:
    from scaler.run import compare

    first = next(iter(configs.values()))
    total = sum(config.steps for config in configs.values())
    with (
        open_sandbox(first.sandbox.name, options=first.sandbox.options) as sandbox,
        progress_bar() as bar,
    ):
        task = bar.add_task("compare", total=total, status="")

        def advance(label: str, report: Any) -> None:
            bar.update(task, advance=1, description=label, status=_status(report))

        results, report_file = compare(configs, out, plugins_of_run(), sandbox, advance)
    directory = report_file.parent
    rows = {
        label: {k: v for k, v in info.summary.items() if k != "per_env"}
        for label, info in results.items()
    }
    if as_json:
        print_json({"directory": str(directory), "runs": rows, "report": str(report_file)})
        return
    keys = [
        "mean_accuracy",
        "informative_fraction",
        "informative_fraction_last",
        "mean_final_difficulty_normalized",
    ]
    trainer_keys = sorted({k for row in rows.values() for k in row.get("trainer", {})})
    table(
        f"{directory}",
        ["run", *keys, *trainer_keys, "retirements"],
        [
            [
                label,
                *(format_value(row.get(k)) for k in keys),
                *(format_value(row.get("trainer", {}).get(k)) for k in trainer_keys),
                sum(row.get("retirements_by_reason", {}).values()),
            ]
            for label, row in rows.items()
        ],
    )
    click.echo(f"report: {report_file}")


def _extra_plugins(argv: Sequence[str]) -> list[str]:
    """``--plugin`` values, read before click parses, so plugins can add commands."""
    found = []
    for index, arg in enumerate(argv):
        if arg == "--plugin" and index + 1 < len(argv):
            found.append(argv[index + 1])
        elif arg.startswith("--plugin="):
            found.append(arg.split("=", 1)[1])
    return found


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        plugins = Plugins.load(_extra_plugins(args))
        use_process_plugins(plugins)
        plugins.hook.scaler_register_commands(cli=cli)
        cli.main(args=args, prog_name="scaler", obj={"plugins": plugins}, standalone_mode=False)
    except ScalerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)

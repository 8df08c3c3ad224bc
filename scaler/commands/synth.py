"""``scaler synth``: problem files to a pool, through ``scaler.synth.synthesize``.

The library is imported when the command runs, not when the plugin set loads it: every
process that loads plugins (a reward worker too) would otherwise pay for it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scaler.commands import common as app
from scaler.hookspecs import hookimpl

if TYPE_CHECKING:
    from scaler.synth.pipeline import Outcome
    from scaler.synth.synthesize import SynthResult


@click.command("synth")
@click.argument("problems", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The pool to write (JSONL); its journal goes beside it (POOL.journal.jsonl).",
)
@click.option(
    "--llm",
    "llm_spec",
    metavar="NAME:MODEL",
    help="The LLM client and model: openai:MODEL (a vLLM/SGLang server or a hosted API; "
    "OPENAI_BASE_URL, OPENAI_API_KEY), vllm:MODEL (offline engine), replay:FILE.",
)
@click.option(
    "--llm-option",
    "llm_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An option of the LLM client (base_url, temperature, concurrency, timeout_s ...).",
)
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append every LLM answer to FILE in the replay format.",
)
@click.option(
    "--source",
    "source_name",
    help="Problem format: codecontests (.jsonl, .parquet), scaler-official (.json), codeio; "
    "default from the file's extension.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Problems in flight at once.",
)
@click.option("--extract-attempts", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--repair-attempts",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Times a failing generator is shown its failure and asked again.",
)
@click.option(
    "--checks",
    "check_names",
    default="breadth,depth,min,determinism",
    show_default=True,
    help="Checks before calibration (budget always runs after).",
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=2048,
    show_default=True,
    help="Prompt budget for the top level: characters of stdin, or tokens.",
)
@click.option("--tokenizer", help="A local tokenizer: the budget counts tokens.")
@click.option(
    "--extractor",
    default="auto",
    show_default=True,
    help="Meta extractor by name (llm, declared, a plugin's); auto: declared, else llm.",
)
@click.option(
    "--generator",
    "synthesizer",
    default="auto",
    show_default=True,
    help="Generator synthesizer by name (llm, declared, a plugin's); auto: declared, else llm.",
)
@click.option(
    "--trials",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Breadth trials and depth runs per generator (the method's 100).",
)
@app.backend_option
@app.json_option
def synth(
    problems: tuple[Path, ...],
    output: Path,
    llm_spec: str | None,
    llm_options: tuple[str, ...],
    record: Path | None,
    source_name: str | None,
    workers: int,
    extract_attempts: int,
    repair_attempts: int,
    check_names: str,
    budget: int,
    tokenizer: str | None,
    extractor: str,
    synthesizer: str,
    trials: int,
    backend: str,
    as_json: bool,
) -> None:
    """Turn programming problems into validated, calibrated environments.

    \b
    Each problem goes through the pre-filter, meta extraction, generator synthesis with a
    repair loop, the checks (breadth, depth, min, determinism), calibration and the budget
    check. Every finished stage is journaled: kill the run at any moment and start the
    same command again; nothing is redone, no LLM call is repeated.

    \b
      scaler synth problems.jsonl -o pool.jsonl --llm openai:Qwen/Qwen3-32B \\
          --llm-option base_url=http://localhost:8000/v1 --record answers.jsonl
      scaler synth problems.jsonl -o pool.jsonl --llm replay:answers.jsonl
      scaler synth SCALER-8.json -o pool.jsonl        (declared generators: no LLM)
    """
    from scaler.synth.checks import CheckSettings
    from scaler.synth.pipeline import SynthSettings
    from scaler.synth.synthesize import Synthesis

    checks = tuple(n.strip() for n in check_names.split(",") if n.strip())
    synthesis = Synthesis(
        problems,
        output,
        app.plugins_of_run(),
        llm=llm_spec,
        llm_options=app.key_values(llm_options, "--llm-option") if llm_spec else None,
        record=record,
        source=source_name,
        settings=SynthSettings(
            extract_attempts, repair_attempts, checks, extractor, synthesizer, workers
        ),
        check_settings=CheckSettings(trials=trials, depth_runs=trials, budget=budget),
        tokenizer=tokenizer,
    )
    counts: Counter[str] = Counter()
    with synthesis, app.open_sandbox(backend) as sandbox, app.progress_bar() as bar:
        task = bar.add_task("synth", total=len(synthesis.problems), status="")

        def advance(outcome: Outcome) -> None:
            counts[outcome.status] += 1
            status = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            bar.update(task, advance=1, status=status)

        result = synthesis.run(sandbox, advance)
    _summary(result, as_json)
    if result.failed:
        raise click.exceptions.Exit(1)


def _summary(result: SynthResult, as_json: bool) -> None:
    if as_json:
        app.print_json(result.to_dict())
        return
    rejected, failed = result.rejected, result.failed
    app.table(
        f"{len(result.accepted)} accepted into {result.pool}; {len(rejected)} rejected; "
        f"{len(failed)} failed",
        ["problem", "status", "stage", "check", "reason"],
        [[o.problem_id, o.status, o.stage, o.check, o.reason] for o in [*rejected, *failed]],
    )
    by_stage = Counter(f"{o.stage}/{o.check}" if o.check else o.stage for o in rejected)
    if by_stage:
        click.echo("rejections: " + ", ".join(f"{k} {v}" for k, v in by_stage.most_common()))
    if failed:
        click.echo(f"{len(failed)} problems failed this run; run the same command to retry them")


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(synth)

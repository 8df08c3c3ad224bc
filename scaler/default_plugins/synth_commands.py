"""`scaler synth`, `validate` and `calibrate`: core commands, added as any plugin adds its own."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from scaler.hookspecs import hookimpl

CHECK_NAMES = "breadth,depth,min,determinism,budget"


def _source_for(path: Path, given: str | None) -> str:
    if given:
        return given
    if path.suffix == ".json":
        return "scaler-official"
    return "codecontests"


def _measure(tokenizer: str | None) -> Any:
    """Characters of stdin, or tokens of the shown input with a local Hugging Face tokenizer."""
    from scaler.calibration import stdin_chars

    if tokenizer is None:
        return stdin_chars
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:
        from scaler.errors import ScalerError

        raise ScalerError("--tokenizer needs transformers: pip install transformers") from exc
    loaded = AutoTokenizer.from_pretrained(tokenizer)

    def tokens(generated: Mapping[str, Any]) -> int:
        shown = generated["shown_input"]
        text = shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)
        return len(loaded.encode(text))

    return tokens


def _checks(value: str, plugins: Any) -> tuple[str, ...]:
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    for name in names:
        plugins.get("checks", name)
    return names


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    from scaler.commands import common as app

    @cli.command("synth")
    @click.argument(
        "problems", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
    )
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
        from scaler.synth.checks import CheckContext, CheckSettings
        from scaler.synth.journal import Journal
        from scaler.synth.llm import Recorder, parse_llm_spec
        from scaler.synth.pipeline import Pipeline, SynthSettings, journal_path, write_accepted

        plugins = app.plugins_of_run()
        names = _checks(check_names, plugins)
        loaded = []
        for path in problems:
            result = plugins.get("sources", _source_for(path, source_name)).read(path)
            for rejection in result.rejected:
                app.log.warning(
                    "source record skipped", where=rejection.where, reason=rejection.reason
                )
            loaded.extend(result.problems)
        llm = None
        if llm_spec:
            name, model = parse_llm_spec(llm_spec)
            llm = plugins.get("llms", name)(model, **app.key_values(llm_options, "--llm-option"))
            if record is not None:
                llm = Recorder(llm, record)
        for kind, name in (("extractors", extractor), ("generators", synthesizer)):
            if name != "auto":
                plugins.get(kind, name)
        settings = SynthSettings(
            extract_attempts, repair_attempts, names, extractor, synthesizer, workers
        )
        journal = Journal(journal_path(output))
        counts: Counter[str] = Counter()
        try:
            with app.open_sandbox(backend) as sandbox, app.progress_bar() as bar:
                check_settings = CheckSettings(trials=trials, depth_runs=trials, budget=budget)
                context = CheckContext(sandbox, plugins, check_settings, _measure(tokenizer))
                task = bar.add_task("synth", total=len(loaded), status="")

                def advance(outcome: Any) -> None:
                    counts[outcome.status] += 1
                    status = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                    bar.update(task, advance=1, status=status)

                outcomes = Pipeline(llm, context, plugins, journal, settings).run(loaded, advance)
        finally:
            journal.close()
            if llm is not None:
                llm.close()
        written = write_accepted(output, outcomes)
        _synth_summary(outcomes, output, written, as_json)
        if any(o.status == "failed" for o in outcomes):
            raise click.exceptions.Exit(1)

    @cli.command("validate")
    @click.argument("pool", type=click.Path(exists=True, path_type=Path))
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(["native", "scaler-official"]),
        help="Pool format; default: scaler-official for a .json file, else native.",
    )
    @click.option("--checks", "check_names", default=CHECK_NAMES, show_default=True)
    @click.option(
        "--report",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the markdown report (and a PNG of failed checks beside it).",
    )
    @click.option(
        "--trials",
        type=click.IntRange(min=1),
        default=100,
        show_default=True,
        help="Breadth trials and depth runs per environment.",
    )
    @click.option("--budget", type=click.IntRange(min=1), default=2048, show_default=True)
    @click.option("--tokenizer", help="A local tokenizer: the budget counts tokens.")
    @click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True)
    @app.backend_option
    @app.json_option
    def validate(
        pool: Path,
        fmt: str | None,
        check_names: str,
        report: Path | None,
        trials: int,
        budget: int,
        tokenizer: str | None,
        workers: int,
        backend: str,
        as_json: bool,
    ) -> None:
        """Re-run the checks on every environment of POOL and write environment cards.

        \b
        Every check runs on every environment (a report shows all that is wrong). A card
        gives per level the input size and the reference runtime, the output diversity,
        the agreement of the solutions, and a fresh calibration against the pool's table.
        Exit status 1 when any environment fails a check (as `scaler verify` on a wrong
        answer), 2 on bad input.
        """
        from scaler.synth.checks import CheckContext, CheckSettings
        from scaler.synth.validate import plot_reasons, render_report, validate_envs

        plugins = app.plugins_of_run()
        envs = _load_envs(pool, fmt, plugins)
        names = _checks(check_names, plugins)
        settings = CheckSettings(trials=trials, depth_runs=trials, budget=budget)
        with app.open_sandbox(backend) as sandbox, app.progress_bar() as bar:
            context = CheckContext(sandbox, plugins, settings, _measure(tokenizer))
            task = bar.add_task("validate", total=len(envs), status="")
            cards = validate_envs(
                envs,
                context,
                names,
                workers,
                lambda card: bar.update(task, advance=1, status=card.env.id),
            )
        if report is not None:
            report.parent.mkdir(parents=True, exist_ok=True)
            plot = plot_reasons(cards, report.with_suffix(".png"))
            report.write_text(render_report(cards, names, plot), encoding="utf-8")
        if as_json:
            app.print_json([card.to_dict() for card in cards])
        else:
            app.table(
                f"{sum(c.ok for c in cards)} of {len(cards)} environments pass",
                ["env", *names],
                [
                    [c.env.id, *("ok" if r.ok else f"FAIL: {r.reason}" for r in c.results)]
                    for c in cards
                ],
            )
            if report is not None:
                click.echo(f"report: {report}")
        if not all(card.ok for card in cards):
            sys.exit(1)

    @cli.command("calibrate")
    @click.argument("pool", type=click.Path(exists=True, path_type=Path))
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
    @click.option("--format", "fmt", type=click.Choice(["native", "scaler-official"]))
    @click.option("--budget", type=click.IntRange(min=1), default=2048, show_default=True)
    @click.option("--tokenizer", help="A local tokenizer: the budget counts tokens.")
    @app.backend_option
    @app.json_option
    def calibrate(
        pool: Path,
        output: Path,
        fmt: str | None,
        budget: int,
        tokenizer: str | None,
        backend: str,
        as_json: bool,
    ) -> None:
        """Recompute every environment's bases and level table; write the pool to OUTPUT."""
        import attrs

        from scaler.calibration import calibrate_envs
        from scaler.pool import write_pool

        plugins = app.plugins_of_run()
        envs = _load_envs(pool, fmt, plugins)
        with app.open_sandbox(backend) as sandbox:
            calibrations = calibrate_envs(envs, sandbox, budget, measure=_measure(tokenizer))
        updated = [
            attrs.evolve(env, scale_params=c.scale_params, levels=c.levels)
            for env, c in zip(envs, calibrations, strict=True)
        ]
        write_pool(updated, output)
        rows = [
            {"env_id": env.id, "before": list(env.levels), "after": list(new.levels)}
            for env, new in zip(envs, updated, strict=True)
        ]
        if as_json:
            app.print_json(rows)
            return
        app.table(
            f"{len(rows)} environments recalibrated into {output}",
            ["env", "levels before", "levels after", "same"],
            [
                [r["env_id"], len(r["before"]), len(r["after"]), r["before"] == r["after"]]
                for r in rows
            ],
        )


def _load_envs(pool: Path, fmt: str | None, plugins: Any) -> list[Any]:
    from scaler.catalog import available_envs
    from scaler.official_pool import import_official

    if (fmt or ("scaler-official" if pool.suffix == ".json" else "native")) == "scaler-official":
        return list(import_official(pool).envs)
    return available_envs(plugins, pool)


def _synth_summary(outcomes: Sequence[Any], output: Path, written: int, as_json: bool) -> None:
    from scaler.commands import common as app

    rejected = [o for o in outcomes if o.status == "rejected"]
    failed = [o for o in outcomes if o.status == "failed"]
    if as_json:
        app.print_json(
            {
                "pool": str(output),
                "accepted": written,
                "rejected": [o.to_dict() for o in rejected],
                "failed": [o.to_dict() for o in failed],
                "llm_calls": sum(o.llm_calls for o in outcomes),
                "resumed": sum(o.resumed for o in outcomes),
            }
        )
        return
    app.table(
        f"{written} accepted into {output}; {len(rejected)} rejected; {len(failed)} failed",
        ["problem", "status", "stage", "check", "reason"],
        [[o.problem_id, o.status, o.stage, o.check, o.reason] for o in [*rejected, *failed]],
    )
    by_stage = Counter(f"{o.stage}/{o.check}" if o.check else o.stage for o in rejected)
    if by_stage:
        click.echo("rejections: " + ", ".join(f"{k} {v}" for k, v in by_stage.most_common()))
    if failed:
        click.echo(f"{len(failed)} problems failed this run; run the same command to retry them")

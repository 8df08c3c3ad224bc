"""Problem files to a pool of environments: what ``scaler synth`` does, callable from Python.

Two steps, so that bad input is refused before a sandbox starts (``auto`` may first spend
minutes building Docker's image): ``Synthesis(...)`` reads the problems, looks up every named
component and makes the LLM client; ``run(sandbox)`` takes the problems through the pipeline
and writes the pool. ``synthesize(...)`` does both. Every finished stage goes to the journal
beside the pool (``pipeline.py``), so the same call again resumes: nothing is redone and no
LLM call is repeated.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from scaler.calibration import input_measure
from scaler.errors import ScalerError
from scaler.logs import get_logger
from scaler.sandbox.use import use_sandbox
from scaler.synth.checks import CHECKS, CheckContext, CheckSettings
from scaler.synth.journal import Journal
from scaler.synth.llm import LLMS, LLMClient, Recorder, parse_llm_spec
from scaler.synth.pipeline import Outcome, Pipeline, SynthSettings, journal_path, write_accepted
from scaler.synth.problem import Problem, SourceRejection
from scaler.synth.sources import SOURCES
from scaler.synth.stages import EXTRACTORS, GENERATORS

if TYPE_CHECKING:
    from scaler.registry import PluginSet
    from scaler.sandbox.jobs import Sandbox

log = get_logger(__name__)

#: A path as callers give one.
PathLike = str | os.PathLike[str]


def source_for(path: Path, given: str | None = None) -> str:
    """The source that reads ``path``: ``given``, else by extension (the official pool is
    JSON, CodeContests is JSON Lines or Parquet)."""
    if given:
        return given
    return "scaler-official" if path.suffix == ".json" else "codecontests"


@attrs.frozen
class SynthResult:
    pool: Path
    journal: Path
    #: One per problem read, in the files' order.
    outcomes: tuple[Outcome, ...]
    #: Records a source could not read as problems; they have no outcome.
    skipped: tuple[SourceRejection, ...] = ()

    def with_status(self, status: str) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status == status)

    @property
    def accepted(self) -> tuple[Outcome, ...]:
        """The problems whose environment is in the pool, in the pool's order."""
        return self.with_status("accepted")

    @property
    def rejected(self) -> tuple[Outcome, ...]:
        return self.with_status("rejected")

    @property
    def failed(self) -> tuple[Outcome, ...]:
        """Problems that failed this run only (an LLM out of reach, an internal error): not
        journaled as final, so the next run tries them again."""
        return self.with_status("failed")

    @property
    def llm_calls(self) -> int:
        """LLM calls this run made (answers replayed from the journal are not counted)."""
        return sum(o.llm_calls for o in self.outcomes)

    @property
    def resumed(self) -> int:
        """Problems whose outcome the journal already held."""
        return sum(o.resumed for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        """The summary ``scaler synth --json`` prints."""
        return {
            "pool": str(self.pool),
            "accepted": len(self.accepted),
            "rejected": [o.to_dict() for o in self.rejected],
            "failed": [o.to_dict() for o in self.failed],
            "llm_calls": self.llm_calls,
            "resumed": self.resumed,
        }


class Synthesis:
    """Problems read and every name checked, ready to run; holds the journal and the client.

    ``llm`` is ``NAME:MODEL`` (``openai:Qwen/Qwen3-32B``, ``replay:answers.jsonl``, a plugin's),
    made with ``llm_options`` and closed by ``close()``; or a client object, which stays the
    caller's. None: no LLM, for problems whose source declares everything (the official pool).
    ``record`` appends every LLM answer to a file in the replay format. ``tokenizer``: a local
    Hugging Face tokenizer, so that the prompt budget (``check_settings.budget``) counts tokens
    instead of characters of stdin.
    """

    def __init__(
        self,
        problems: Sequence[PathLike],
        output: PathLike,
        plugins: PluginSet,
        *,
        llm: str | LLMClient | None = None,
        llm_options: Mapping[str, Any] | None = None,
        record: PathLike | None = None,
        source: str | None = None,
        settings: SynthSettings | None = None,
        check_settings: CheckSettings | None = None,
        tokenizer: str | None = None,
    ) -> None:
        self.plugins = plugins
        self.pool = Path(output)
        self.settings = settings or SynthSettings()
        self.check_settings = check_settings or CheckSettings()
        for name in self.settings.checks:
            plugins.get(CHECKS, name)
        read: list[Problem] = []
        skipped: list[SourceRejection] = []
        for path in map(Path, problems):
            result = plugins.get(SOURCES, source_for(path, source)).read(path)
            for rejection in result.rejected:
                log.warning("source record skipped", where=rejection.where, reason=rejection.reason)
            read.extend(result.problems)
            skipped.extend(result.rejected)
        #: The problems to synthesize, in the files' order.
        self.problems: tuple[Problem, ...] = tuple(read)
        self.skipped: tuple[SourceRejection, ...] = tuple(skipped)
        self.llm, self._owns_llm = _client(plugins, llm, llm_options, record)
        try:
            for kind, name in (
                (EXTRACTORS, self.settings.extractor),
                (GENERATORS, self.settings.generator),
            ):
                if name != "auto":
                    plugins.get(kind, name)
            self.measure = input_measure(tokenizer)
            try:
                self.pool.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ScalerError(f"{self.pool}: cannot make its directory: {exc}") from exc
            self.journal = Journal(journal_path(self.pool))
        except BaseException:
            self._close_llm()
            raise

    def run(
        self, sandbox: Sandbox, on_outcome: Callable[[Outcome], None] | None = None
    ) -> SynthResult:
        """Every problem through the pipeline, ``sandbox`` running the generators and the
        solutions; the pool is written (atomically) once all are done. ``on_outcome`` hears
        each problem's outcome as it finishes (progress; problems run concurrently)."""
        context = CheckContext(sandbox, self.plugins, self.check_settings, self.measure)
        pipeline = Pipeline(self.llm, context, self.plugins, self.journal, self.settings)
        outcomes = pipeline.run(self.problems, on_outcome)
        write_accepted(self.pool, outcomes)
        return SynthResult(self.pool, self.journal.path, tuple(outcomes), self.skipped)

    def close(self) -> None:
        try:
            self.journal.close()
        finally:
            self._close_llm()

    def _close_llm(self) -> None:
        if self.llm is not None and self._owns_llm:
            self.llm.close()

    def __enter__(self) -> Synthesis:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _client(
    plugins: PluginSet,
    llm: str | LLMClient | None,
    options: Mapping[str, Any] | None,
    record: PathLike | None,
) -> tuple[LLMClient | None, bool]:
    """The client to ask, recording when ``record`` is given, and whether it was made here."""
    if llm is None:
        return None, False
    if isinstance(llm, str):
        name, model = parse_llm_spec(llm)
        client: LLMClient = plugins.get(LLMS, name)(model, **(options or {}))
        owned = True
    elif options:
        raise ScalerError("llm_options are for a client made by name, not a given one")
    else:
        client, owned = llm, False
    return (client if record is None else Recorder(client, Path(record))), owned


def synthesize(
    problems: Sequence[PathLike],
    output: PathLike,
    plugins: PluginSet,
    sandbox: Sandbox | str = "auto",
    *,
    llm: str | LLMClient | None = None,
    llm_options: Mapping[str, Any] | None = None,
    record: PathLike | None = None,
    source: str | None = None,
    settings: SynthSettings | None = None,
    check_settings: CheckSettings | None = None,
    tokenizer: str | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> SynthResult:
    """Turn the problems in ``problems`` (files) into the pool ``output`` and its journal
    (``POOL.journal.jsonl``); the arguments are those of ``Synthesis``. ``sandbox`` is a
    backend's name, made here and closed after, or an open sandbox, which stays open."""
    with (
        Synthesis(
            problems,
            output,
            plugins,
            llm=llm,
            llm_options=llm_options,
            record=record,
            source=source,
            settings=settings,
            check_settings=check_settings,
            tokenizer=tokenizer,
        ) as synthesis,
        use_sandbox(plugins, sandbox) as opened,
    ):
        return synthesis.run(opened, on_outcome)

"""The synthesis pipeline: problems flow through the stages concurrently, journaled.

Per problem: pre-filter, meta extraction (declared, or asked of the LLM, with one more try on a
malformed reply), generator synthesis (declared, or the LLM's) and the checks, with a repair
loop that shows the LLM what failed and asks again up to ``repair_attempts`` times, then
calibration and the budget check. Problems run on a pool of threads, so one problem's LLM call
overlaps others' sandbox work; the sandbox is shared.

Every finished stage goes to the journal first (``journal.py``): killed at any moment and
started again with the same command, the pipeline loses nothing, repeats no finished LLM call
and writes no duplicate environment. An LLM that cannot be reached fails the problem for this
run only (it is not journaled as rejected), so the next run tries it again.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from scaler.calibration import calibrate_envs
from scaler.errors import InstanceError, ScalerError
from scaler.files import write_atomic
from scaler.logs import get_logger
from scaler.model import EnvSpec, Program, Provenance
from scaler.official_pool import slug
from scaler.pool import env_from_dict
from scaler.synth.checks import CHECKS, Candidate, CheckContext, CheckResult, run_checks
from scaler.synth.extract import Meta, keep_rule, narrative, output_section, prefilter
from scaler.synth.journal import Journal
from scaler.synth.llm import LLMClient, LLMError, LLMRequest
from scaler.synth.problem import Problem
from scaler.synth.stages import EXTRACTORS, GENERATORS, Rejected

if TYPE_CHECKING:
    from scaler.registry import PluginSet

log = get_logger(__name__)

#: The checks a new generator must pass before calibration, in the method's order, then ours
#: (budget runs after calibration).
DEFAULT_CHECKS: tuple[str, ...] = ("breadth", "depth", "min", "determinism")


def _at_least(least: int) -> Callable[[Any, attrs.Attribute[int], int], None]:
    def check(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
        if value < least:
            raise ScalerError(f"{attribute.name.replace('_', ' ')} must be >= {least}, got {value}")

    return check


@attrs.frozen
class SynthSettings:
    extract_attempts: int = attrs.field(default=2, validator=_at_least(1))
    repair_attempts: int = attrs.field(default=2, validator=_at_least(0))
    checks: tuple[str, ...] = DEFAULT_CHECKS
    #: ``auto``: what the source declared where it declared it, else the LLM.
    extractor: str = "auto"
    generator: str = "auto"
    workers: int = attrs.field(default=4, validator=_at_least(1))


@attrs.frozen
class Outcome:
    problem_id: str
    status: str  # accepted | rejected | failed (not final: retried by the next run)
    stage: str = ""
    reason: str = ""
    check: str = ""
    env: EnvSpec | None = None
    #: LLM calls this run made for the problem (answers replayed from the journal are not).
    llm_calls: int = 0
    #: True when the journal already held the outcome.
    resumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = {
            "problem_id": self.problem_id,
            "status": self.status,
            "stage": self.stage,
            "reason": self.reason,
            "check": self.check,
            "llm_calls": self.llm_calls,
        }
        if self.env is not None:
            data["env_id"] = self.env.id
        return {k: v for k, v in data.items() if v not in ("", None)}


class _Session:
    """One problem's conversation: LLM answers come from the journal when it has them."""

    def __init__(self, pipeline: Pipeline, problem: Problem) -> None:
        self.pipeline = pipeline
        self.problem = problem
        self.calls = 0

    def ask(self, stage: str, attempt: int, messages: Sequence[Mapping[str, str]]) -> str:
        journal = self.pipeline.journal
        known = journal.llm(self.problem.id, stage, attempt)
        if known is not None:
            return known
        llm = self.pipeline.llm
        if llm is None:
            raise LLMError(f"the {stage} stage needs an LLM; give --llm NAME:MODEL")
        completion = llm.complete(LLMRequest(self.problem.id, stage, attempt, tuple(messages)))
        self.calls += 1
        journal.record_llm(
            self.problem.id,
            stage,
            attempt,
            completion.text,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
        )
        return completion.text


class Pipeline:
    def __init__(
        self,
        llm: LLMClient | None,
        context: CheckContext,
        plugins: PluginSet,
        journal: Journal,
        settings: SynthSettings | None = None,
    ) -> None:
        self.llm = llm
        self.context = context
        self.plugins = plugins
        self.journal = journal
        self.settings = settings or SynthSettings()
        self._ids: dict[str, str] = {}
        self._ids_lock = threading.Lock()

    def run(
        self, problems: Iterable[Problem], on_outcome: Callable[[Outcome], None] | None = None
    ) -> list[Outcome]:
        """Outcomes in the problems' order; ``on_outcome`` hears each as it finishes."""
        ordered = list(problems)
        outcomes: dict[int, Outcome] = {}
        with ThreadPoolExecutor(self.settings.workers, thread_name_prefix="scaler-synth") as pool:
            futures = {pool.submit(self.process, p): i for i, p in enumerate(ordered)}
            for future in as_completed(futures):
                outcome = future.result()
                outcomes[futures[future]] = outcome
                if on_outcome is not None:
                    on_outcome(outcome)
        return [outcomes[i] for i in range(len(ordered))]

    def process(self, problem: Problem) -> Outcome:
        final = self.journal.final(problem.id)
        if final is not None:
            return _from_event(final, resumed=True)
        session = _Session(self, problem)
        try:
            env = self._synthesize(problem, session)
        except Rejected as rejected:
            event = {
                "problem_id": problem.id,
                "event": "rejected",
                "stage": rejected.stage,
                "reason": rejected.reason,
                "check": rejected.check,
            }
            self.journal.record_final(event)
            log.info("rejected", problem=problem.id, stage=rejected.stage, reason=rejected.reason)
            return attrs.evolve(_from_event(event), llm_calls=session.calls)
        except LLMError as exc:
            log.warning("llm failed", problem=problem.id, error=str(exc))
            return Outcome(problem.id, "failed", "llm", str(exc), llm_calls=session.calls)
        except Exception as exc:
            log.exception("problem failed", problem=problem.id)
            reason = f"{type(exc).__name__}: {exc}"
            return Outcome(problem.id, "failed", "internal", reason, llm_calls=session.calls)
        self.journal.record_final(
            {"problem_id": problem.id, "event": "accepted", "env": env.to_dict()}
        )
        log.info("accepted", problem=problem.id, env=env.id, levels=len(env.levels))
        return Outcome(problem.id, "accepted", env=env, llm_calls=session.calls)

    def _synthesize(self, problem: Problem, session: _Session) -> EnvSpec:
        problem, reason = prefilter(problem)
        if reason:
            raise Rejected("prefilter", reason)
        self._claim_id(problem)
        meta = self._meta(problem, session)
        reason = keep_rule(problem, meta)
        if reason:
            raise Rejected("extract", reason)
        generator, contract = self._generator(problem, meta, session)
        return self._calibrate(problem, meta, self._candidate(problem, meta, generator, contract))

    def _claim_id(self, problem: Problem) -> str:
        env_id = slug(problem.name or problem.id)
        with self._ids_lock:
            owner = self._ids.setdefault(env_id, problem.id)
        if owner != problem.id:
            raise Rejected("prefilter", f"its id {env_id!r} repeats problem {owner!r}")
        return env_id

    def _meta(self, problem: Problem, session: _Session) -> Meta:
        """The named extractor; ``auto`` takes what the source declared, else asks the LLM."""
        name = self.settings.extractor
        order = ("declared", "llm") if name == "auto" else (name,)
        for extractor in order:
            extract = self.plugins.get(EXTRACTORS, extractor)
            meta = extract(problem, session.ask, self.settings.extract_attempts)
            if meta is not None:
                return meta
        raise Rejected("extract", f"the {name} extractor has no metadata for this problem")

    def _generator(self, problem: Problem, meta: Meta, session: _Session) -> tuple[Program, str]:
        """The first generator that passes the checks, repairing up to ``repair_attempts``."""
        name = self.settings.generator
        order = ("declared", "llm") if name == "auto" else (name,)
        for synthesizer_name in order:
            synthesizer = self.plugins.get(GENERATORS, synthesizer_name)
            draft = synthesizer.first(problem, meta, session.ask)
            if draft is not None:
                break
        else:
            raise Rejected("generator", f"the {name} synthesizer has no generator for it")
        for repair in range(self.settings.repair_attempts + 1):
            if draft.program is None:
                failure = CheckResult("format", False, draft.error, f"Your answer: {draft.error}")
            else:
                candidate = self._candidate(problem, meta, draft.program, draft.contract)
                found = self._failure(problem, candidate)
                if found is None:
                    return draft.program, draft.contract
                failure = found
            if repair == self.settings.repair_attempts:
                break
            repaired = synthesizer.repair(
                problem, meta, draft, failure.feedback, repair, session.ask
            )
            if repaired is None:
                break
            draft = repaired
        raise Rejected("checks", failure.reason, failure.check)

    def _candidate(
        self, problem: Problem, meta: Meta, program: Program, contract: str
    ) -> Candidate:
        return Candidate(
            slug(problem.name or problem.id),
            meta.output_type,
            meta.scale_params,
            program,
            problem.solutions,
            contract,
            problem.limits,
        )

    def _failure(self, problem: Problem, candidate: Candidate) -> CheckResult | None:
        """The first failing check, or None; results are journaled per generator."""
        known = self.journal.checks(problem.id, candidate.generator.hash)
        if known is None:
            results = run_checks(candidate, self.context, self.settings.checks)
            self.journal.record_checks(
                problem.id,
                candidate.generator.hash,
                [{**r.to_dict(), "feedback": r.feedback} for r in results],
            )
            known = self.journal.checks(problem.id, candidate.generator.hash) or []
        for result in known:
            if not result["ok"]:
                return CheckResult(
                    result["check"], False, result["reason"], result.get("feedback", "")
                )
        return None

    def _calibrate(self, problem: Problem, meta: Meta, candidate: Candidate) -> EnvSpec:
        declared = problem.declared
        provisional = EnvSpec(
            id=candidate.id,
            name=problem.name,
            statement=(declared.narrative if declared and declared.narrative else None)
            or narrative(problem.statement),
            output_spec=(declared.output_spec if declared and declared.output_spec else None)
            or output_section(problem.statement),
            output_type=meta.output_type,
            scale_params=meta.scale_params,
            levels=(0,),
            generator=candidate.generator,
            generator_contract=candidate.generator_contract,
            solutions=candidate.solutions,
            limits=candidate.limits,
            provenance=Provenance(
                source=problem.source,
                llm=None if self.llm is None else self.llm.model,
                created=datetime.date.today().isoformat(),
                origin=problem.origin or None,
            ),
        )
        try:
            (calibration,) = calibrate_envs(
                [provisional],
                self.context.sandbox,
                self.context.settings.budget,
                measure=self.context.measure,
            )
        except InstanceError as exc:
            raise Rejected("calibrate", str(exc)) from exc
        env = calibration.apply(provisional)
        result = self.plugins.get(CHECKS, "budget")(
            attrs.evolve(candidate, scale_params=env.scale_params, levels=env.levels),
            self.context,
        )
        if not result.ok:
            raise Rejected("checks", result.reason, "budget")
        return env


def _from_event(event: Mapping[str, Any], resumed: bool = False) -> Outcome:
    problem_id = str(event["problem_id"])
    if event["event"] == "accepted":
        env = env_from_dict(event["env"], "<journal>")
        return Outcome(problem_id, "accepted", env=env, resumed=resumed)
    return Outcome(
        problem_id,
        "rejected",
        str(event.get("stage", "")),
        str(event.get("reason", "")),
        str(event.get("check", "")),
        resumed=resumed,
    )


def journal_path(pool: Path) -> Path:
    return pool.with_name(pool.stem + ".journal.jsonl")


def write_accepted(pool: Path, outcomes: Sequence[Outcome]) -> int:
    """The pool file: accepted envs in the problems' order, written atomically."""
    lines = [
        json.dumps(o.env.to_dict(), ensure_ascii=False) + "\n"
        for o in outcomes
        if o.env is not None
    ]
    write_atomic(pool, "".join(lines))
    return len(lines)

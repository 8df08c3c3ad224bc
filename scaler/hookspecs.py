"""Every extension point of scaler, one hook specification each.

Registration hooks receive a ``register`` callback and call it once per component, so that a
run picks components by name (``controller = "scaler"``) and ``scaler plugins`` can say which
plugin provided which name. ``register`` is typed with what its registry holds:
``Register[ControllerFactory]`` is ``register(name, factory)`` for a controller factory
(``scaler.registry.Register``); each hook fills the registry of the ``Kind`` named after it
(``scaler_register_controllers`` fills ``CONTROLLERS``). A later plugin may register a name
again to replace an earlier one (an installed plugin over a default, a ``--plugin`` module
over both); the replacement is shown.

Event hooks are notifications for observers (metrics, dashboards); their return values are
ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

# Types only: ``import scaler`` imports this module, and stays cheap for a reward function.
if TYPE_CHECKING:
    import click

    from scaler.curriculum.controllers import ControllerFactory
    from scaler.curriculum.curation import CurationFactory
    from scaler.evaluate.policies import PolicyFactory
    from scaler.model import EnvSpec
    from scaler.official_pool import Importer
    from scaler.prompts import PromptTemplate
    from scaler.registry import Register
    from scaler.sandbox.jobs import SandboxFactory
    from scaler.synth.checks import Check
    from scaler.synth.llm import LLMFactory
    from scaler.synth.sources import ProblemSource
    from scaler.synth.stages import Extractor, Synthesizer
    from scaler.trainer import TrainerFactory
    from scaler.verify import Verifier

hookspec = pluggy.HookspecMarker("scaler")
hookimpl = pluggy.HookimplMarker("scaler")


@hookspec
def scaler_register_environments(register: Callable[[EnvSpec], None]) -> None:
    """Register environments into ``ENVIRONMENTS``: ``register(env)`` with an ``EnvSpec``
    (``Callable[[EnvSpec], None]``; an environment is named by its id).

    The builtin pack uses it; so does any package that ships a pool of its own. Every registered
    environment shows in ``scaler envs list`` and can be sampled by id.
    """


@hookspec
def scaler_register_importers(register: Register[Importer]) -> None:
    """Register pool importers into ``IMPORTERS``: ``register(name, importer)``, a
    ``Register[Importer]`` (``scaler.official_pool``).

    ``importer(path) -> scaler.official_pool.ImportResult`` converts a foreign pool file into
    EnvSpecs plus the entries it could not convert; ``scaler pool import --format NAME`` uses it.
    """


@hookspec
def scaler_register_sources(register: Register[ProblemSource]) -> None:
    """Register problem sources for synthesis into ``SOURCES``: ``register(name, source)``, a
    ``Register[ProblemSource]`` (``scaler.synth.sources``).

    A source reads problems (statement and reference solutions) in one format, such as
    CodeContests JSONL, and names every record it rejects.
    """


@hookspec
def scaler_register_llms(register: Register[LLMFactory]) -> None:
    """Register LLM clients for synthesis into ``LLMS``: ``register(name, factory)``, a
    ``Register[LLMFactory]`` (``scaler.synth.llm``).

    ``factory(model, **options)`` returns a client; runs choose one with ``--llm NAME:MODEL``.
    """


@hookspec
def scaler_register_extractors(register: Register[Extractor]) -> None:
    """Register meta-information extractors into ``EXTRACTORS``: ``register(name, extractor)``,
    a ``Register[Extractor]`` (``scaler.synth.stages``).

    An extractor finds a problem's scale parameters, output type and output uniqueness.
    """


@hookspec
def scaler_register_generators(register: Register[Synthesizer]) -> None:
    """Register test-case generator synthesizers into ``GENERATORS``: ``register(name,
    synthesizer)``, a ``Register[Synthesizer]`` (``scaler.synth.stages``).

    A synthesizer produces the generator program of an environment from a problem.
    """


@hookspec
def scaler_register_checks(register: Register[Check]) -> None:
    """Register environment validation checks into ``CHECKS``: ``register(name, check)``, a
    ``Register[Check]`` (``scaler.synth.checks``).

    A check runs a candidate environment's generator and solutions in the sandbox and accepts or
    rejects it with a reason (breadth, depth, min, determinism, budget ...).
    """


@hookspec
def scaler_register_verifiers(register: Register[Verifier]) -> None:
    """Register answer verifiers by output type into ``VERIFIERS``: ``register(output_type,
    verifier)``, a ``Register[Verifier]`` (``scaler.verify``).

    ``verifier(extracted, expected) -> (correct, reason)`` compares the text of a model's boxed
    answer with the ground truth. Registering a new output type makes pools that use it loadable.
    """


@hookspec
def scaler_register_prompts(register: Register[PromptTemplate]) -> None:
    """Register prompt templates into ``PROMPTS``: ``register(name, template)``, a
    ``Register[PromptTemplate]`` (``scaler.prompts``).

    ``template(env, shown_input) -> list of chat messages`` renders an instance for the policy.
    The default, ``scaler``, is the paper's format.
    """


@hookspec
def scaler_register_controllers(register: Register[ControllerFactory]) -> None:
    """Register difficulty controllers into ``CONTROLLERS``: ``register(name, factory)``, a
    ``Register[ControllerFactory]`` (``scaler.curriculum.controllers``).

    A controller keeps one environment's difficulty near a target success rate.
    ``factory(max_level, **options)`` returns a ``scaler.curriculum.controllers.Controller``;
    the options are the ``[controller]`` table of a run config. Defaults: ``scaler`` (the
    paper's), ``fixed``, ``ratchet``, ``elo``.
    """


@hookspec
def scaler_register_curation(register: Register[CurationFactory]) -> None:
    """Register curation policies into ``CURATION``: ``register(name, factory)``, a
    ``Register[CurationFactory]`` (``scaler.curriculum.curation``).

    A policy keeps the active set of environments and retires those that no longer teach.
    ``factory(**options)`` returns a ``scaler.curriculum.curation.Curation``; the options are
    the ``[curation]`` table. Defaults: ``scaler-window`` (the paper's), ``all``,
    ``progress-window``.
    """


@hookspec
def scaler_register_sandboxes(register: Register[SandboxFactory]) -> None:
    """Register sandbox backends into ``SANDBOXES``: ``register(name, factory)``, a
    ``Register[SandboxFactory]`` (``scaler.sandbox.jobs``).

    ``factory(*, plugins, **options)`` returns an object with ``run_batch(jobs)`` and
    ``close()`` (the ``scaler.sandbox.Sandbox`` protocol), which runs untrusted programs under
    limits; the options are the ``[sandbox]`` table, and ``plugins`` the set the factory was
    found in (``auto`` chooses among its backends; others ignore it).
    """


@hookspec
def scaler_register_trainers(register: Register[TrainerFactory]) -> None:
    """Register trainers into ``TRAINERS``: ``register(name, factory)``, a
    ``Register[TrainerFactory]`` (``scaler.trainer``).

    A trainer consumes instances from the curriculum and reports per-rollout accuracy back.
    ``factory(**options)`` returns a ``scaler.trainer.Trainer``; the options are the
    ``[trainer]`` table. Default: ``simulate`` (a simulated learner).
    """


@hookspec
def scaler_register_policies(register: Register[PolicyFactory]) -> None:
    """Register policies to evaluate into ``POLICIES``: ``register(name, factory)``, a
    ``Register[PolicyFactory]`` (``scaler.evaluate.policies``).

    ``factory(model, **options)`` returns a ``scaler.evaluate.policies.Policy``: something
    that answers chat prompts with ``n`` samples each under recorded decoding settings.
    Chosen as ``scaler eval NAME:MODEL``. Default: ``openai`` (an OpenAI-compatible server).
    """


@hookspec
def scaler_register_commands(cli: click.Group) -> None:
    """Add commands to the ``scaler`` command line: ``cli`` is the root click group."""


@hookspec
def scaler_instances_generated(instances: Any) -> None:
    """Event: a batch of instances (a list of ``Instance``) was materialized."""


@hookspec
def scaler_step_end(report: Any) -> None:
    """Event: a curriculum step ended; ``report`` holds per-environment levels and accuracy."""


@hookspec
def scaler_env_retired(env_id: str, reason: str, step: int) -> None:
    """Event: curation retired an environment from the active set, with the reason."""

"""Every extension point of scaler, one hook specification each.

Registration hooks receive a ``register`` callback and call it once per component, so that a
run picks components by name (``controller = "scaler"``) and ``scaler plugins`` can say which
plugin provided which name. A later plugin may register a name again to replace an earlier one
(an installed plugin over a default, a ``--plugin`` module over both); the replacement is shown.

Event hooks are notifications for observers (metrics, dashboards); their return values are
ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

hookspec = pluggy.HookspecMarker("scaler")
hookimpl = pluggy.HookimplMarker("scaler")


@hookspec
def scaler_register_environments(register: Any) -> None:
    """Register environments: ``register(env)`` with an ``EnvSpec``.

    The builtin pack uses it; so does any package that ships a pool of its own. Every registered
    environment shows in ``scaler envs list`` and can be sampled by id.
    """


@hookspec
def scaler_register_importers(register: Any) -> None:
    """Register pool importers: ``register(name, importer)``.

    ``importer(path) -> scaler.official_pool.ImportResult`` converts a foreign pool file into
    EnvSpecs plus the entries it could not convert; ``scaler pool import --format NAME`` uses it.
    """


@hookspec
def scaler_register_sources(register: Any) -> None:
    """Register problem sources for synthesis: ``register(name, source)``.

    A source reads problems (statement and reference solutions) in one format, such as
    CodeContests JSONL, and names every record it rejects.
    """


@hookspec
def scaler_register_llms(register: Any) -> None:
    """Register LLM clients for synthesis: ``register(name, factory)``.

    ``factory(model, **options)`` returns a client; runs choose one with ``--llm NAME:MODEL``.
    """


@hookspec
def scaler_register_extractors(register: Any) -> None:
    """Register meta-information extractors: ``register(name, extractor)``.

    An extractor finds a problem's scale parameters, output type and output uniqueness.
    """


@hookspec
def scaler_register_generators(register: Any) -> None:
    """Register test-case generator synthesizers: ``register(name, synthesizer)``.

    A synthesizer produces the generator program of an environment from a problem.
    """


@hookspec
def scaler_register_checks(register: Any) -> None:
    """Register environment validation checks: ``register(name, check)``.

    A check runs a candidate environment's generator and solutions in the sandbox and accepts or
    rejects it with a reason (breadth, depth, min, determinism, budget ...).
    """


@hookspec
def scaler_register_verifiers(register: Any) -> None:
    """Register answer verifiers by output type: ``register(output_type, verifier)``.

    ``verifier(extracted, expected) -> (correct, reason)`` compares the text of a model's boxed
    answer with the ground truth. Registering a new output type makes pools that use it loadable.
    """


@hookspec
def scaler_register_prompts(register: Any) -> None:
    """Register prompt templates: ``register(name, template)``.

    ``template(env, shown_input) -> list of chat messages`` renders an instance for the policy.
    The default, ``scaler``, is the paper's format.
    """


@hookspec
def scaler_register_controllers(register: Any) -> None:
    """Register difficulty controllers: ``register(name, factory)``.

    A controller keeps one environment's difficulty near a target success rate.
    ``factory(max_level, **options)`` returns a ``scaler.curriculum.controllers.Controller``;
    the options are the ``[controller]`` table of a run config. Defaults: ``scaler`` (the
    paper's), ``fixed``, ``ratchet``, ``elo``.
    """


@hookspec
def scaler_register_curation(register: Any) -> None:
    """Register curation policies: ``register(name, factory)``.

    A policy keeps the active set of environments and retires those that no longer teach.
    ``factory(**options)`` returns a ``scaler.curriculum.curation.Curation``; the options are
    the ``[curation]`` table. Defaults: ``scaler-window`` (the paper's), ``all``,
    ``progress-window``.
    """


@hookspec
def scaler_register_sandboxes(register: Any) -> None:
    """Register sandbox backends: ``register(name, factory)``.

    ``factory(**options)`` returns an object with ``run_batch(jobs)`` and ``close()`` (the
    ``scaler.sandbox.Sandbox`` protocol), which runs untrusted programs under limits.
    """


@hookspec
def scaler_register_trainers(register: Any) -> None:
    """Register trainers: ``register(name, factory)``.

    A trainer consumes instances from the curriculum and reports per-rollout accuracy back.
    ``factory(**options)`` returns a ``scaler.trainer.Trainer``; the options are the
    ``[trainer]`` table. Default: ``simulate`` (a simulated learner).
    """


@hookspec
def scaler_register_policies(register: Any) -> None:
    """Register policies to evaluate: ``register(name, factory)``.

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

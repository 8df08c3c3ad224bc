"""The ``ray`` backend: a batch's jobs spread over sandbox actors on the nodes of a Ray cluster.

Each node gets ``actors_per_node`` sandbox actors, each wrapping that node's own backend
(``auto``: docker where its engine answers and the image is built, else process; the choice
and its reason are logged per actor and kept in ``describe()``). A batch is cut into one
contiguous part per actor, sized by the actor's workers: a pool lists a program's jobs
together, so contiguous parts keep them together, where a warm child or a built binary serves
them all. Results come back once each, in job order.

Faults: an actor that dies under a part (its node lost, its process killed) has that part's
unfinished chains sent again, each alone, to the actors left; a chain that kills its actor
while running alone twice is answered failed (``runtime-error``, saying so) rather than retried
forever. Where no actor is left, actors are started again on the nodes alive; where none can
be, the batch fails with the reason.

Ray is imported when a sandbox is built: ``scaler`` without Ray lists the backend and says what
to install when it is used.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from scaler.errors import ConfigError, ScalerError
from scaler.logs import get_logger
from scaler.registry import PluginSet, PluginSpec
from scaler.sandbox.jobs import Chain, Job, JobResult, run_chains

log = get_logger(__name__)

INSTALL_HINT = "pip install 'scaler[ray]'"
#: Calls an actor serves at once: the batches of a caller's threads (validation runs four)
#: share the node's local pool, as they would share a local backend.
ACTOR_CONCURRENCY = 16
#: Deaths of its actor, while running alone, after which a chain is answered failed.
MAX_KILLS = 2
#: What a chain whose jobs kept killing their actor is answered.
KILLED_ACTOR = "its sandbox actor died {kills} times while it ran alone (node lost or killed)"


@attrs.frozen
class ActorInfo:
    """What one sandbox actor runs on, as it reported it."""

    node: str
    host: str
    backend: str
    workers: int
    #: Why this backend: auto's reason on that node, or "named" when the options named it.
    reason: str


class SandboxActor:
    """Inside a Ray actor on one node: that node's own sandbox backend, built once."""

    def __init__(
        self,
        load: Callable[[PluginSpec], PluginSet],
        spec: PluginSpec,
        backend: str,
        options: Mapping[str, Any],
    ) -> None:
        import ray

        from scaler.sandbox.selection import build_sandbox, diagnose

        # The driver's plugin set, loaded here from its spec by the driver's own loader: a
        # node's backend may be a plugin's.
        plugins = load(spec)
        reason = "named"
        if backend == "auto":
            choice = diagnose(plugins)[1]
            backend, reason = choice.backend, choice.reason
            if backend == "process":
                options = {k: v for k, v in options.items() if k != "image"}
        self.sandbox = build_sandbox(plugins, backend, dict(options))
        self.info = ActorInfo(
            node=ray.get_runtime_context().get_node_id(),
            host=os.uname().nodename,
            backend=self.sandbox.name,
            workers=int(getattr(self.sandbox, "workers", 1) or 1),
            reason=reason,
        )

    def describe(self) -> ActorInfo:
        return self.info

    def run_chains(self, chains: Sequence[Chain]) -> list[list[JobResult]]:
        return run_chains(self.sandbox, chains)

    def close(self) -> None:
        self.sandbox.close()


@attrs.define
class _Actor:
    handle: Any
    info: ActorInfo


class RaySandbox:
    """``ray``: sandbox actors on every node of a Ray cluster (see the module docstring).

    ``address``: the cluster to join (``auto``, ``HOST:PORT``, ``ray://...``); default: the
    one ``RAY_ADDRESS`` names, else a local one started here. ``backend``: each node's own
    backend; ``actors_per_node``: actors a node gets, sharing its cores; ``nodes``: at most
    this many nodes, the driver's own first (a benchmark's scaling steps). Other options go to
    each node's backend (``workers``: jobs at once per actor, default the node's cores /
    ``actors_per_node``).
    """

    name = "ray"

    def __init__(
        self,
        *,
        plugins: PluginSet,
        address: str | None = None,
        backend: str = "auto",
        actors_per_node: int = 1,
        nodes: int | None = None,
        **options: Any,
    ) -> None:
        if not isinstance(actors_per_node, int) or isinstance(actors_per_node, bool):
            raise ConfigError(
                f"must be a whole number, got {actors_per_node!r}", field="actors_per_node"
            )
        if actors_per_node < 1:
            raise ConfigError(f"must be >= 1, got {actors_per_node!r}", field="actors_per_node")
        if nodes is not None and (
            not isinstance(nodes, int) or isinstance(nodes, bool) or nodes < 1
        ):
            raise ConfigError(f"must be a whole number >= 1, got {nodes!r}", field="nodes")
        if backend == self.name:
            raise ConfigError("a node's backend cannot be ray itself", field="backend")
        load = getattr(type(plugins), "from_spec", None)
        if load is None:
            raise ScalerError(
                f"the ray backend loads the plugin set again on every node: "
                f"{type(plugins).__name__} has no from_spec (scaler.plugins.Plugins has)"
            )
        try:
            import ray
        except ImportError as exc:
            raise ScalerError(f"the ray sandbox backend needs Ray: {INSTALL_HINT}") from exc
        self._ray = ray
        self._load: Callable[[PluginSpec], PluginSet] = load
        self.spec: PluginSpec = plugins.spec
        self.backend = backend
        self.actors_per_node = actors_per_node
        self.nodes = nodes
        self.options = dict(options)
        self.actors: list[_Actor] = []
        self._lock = threading.Lock()
        self._started_ray = False
        if not ray.is_initialized():
            ray.init(
                address=address or os.environ.get("RAY_ADDRESS") or None,
                include_dashboard=False,
                logging_level="warning",
                log_to_driver=False,
            )
            self._started_ray = True
        try:
            self._start_actors()
        except BaseException:
            if self._started_ray:
                ray.shutdown()
            raise

    @property
    def workers(self) -> int:
        """Jobs that run at once over the whole cluster."""
        return sum(actor.info.workers for actor in self.actors)

    def _start_actors(self) -> None:
        with self._lock:
            if not self.actors:
                self.actors = self._new_actors()

    def _new_actors(self) -> list[_Actor]:
        ray = self._ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        remote = ray.remote(max_concurrency=ACTOR_CONCURRENCY)(SandboxActor)
        handles = []
        here = ray.get_runtime_context().get_node_id()
        alive = sorted(
            (node for node in ray.nodes() if node.get("Alive")),
            key=lambda node: node["NodeID"] != here,
        )
        for node in alive[: self.nodes]:
            cpus = int(node.get("Resources", {}).get("CPU", 1)) or 1
            options = dict(self.options)
            options.setdefault("workers", max(1, cpus // self.actors_per_node))
            for _ in range(self.actors_per_node):
                handles.append(
                    remote.options(
                        num_cpus=0,
                        scheduling_strategy=NodeAffinitySchedulingStrategy(
                            node["NodeID"], soft=False
                        ),
                    ).remote(self._load, self.spec, self.backend, options)
                )
        actors = []
        for handle in handles:
            try:
                info = ray.get(handle.describe.remote())
            except ray.exceptions.RayError as exc:
                log.warning("a sandbox actor did not start", error=str(exc).splitlines()[0])
                continue
            actors.append(_Actor(handle, info))
            log.info(
                "sandbox actor",
                node=info.node[:8],
                host=info.host,
                backend=info.backend,
                workers=info.workers,
                reason=info.reason,
            )
        if not actors:
            raise ScalerError("no sandbox actor could start on any node of the Ray cluster")
        return actors

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]:
        return [results[0] for results in self.run_chains([Chain((job,)) for job in jobs])]

    def run_chains(self, chains: Sequence[Chain]) -> list[list[JobResult]]:
        ray = self._ray
        done: list[list[JobResult] | None] = [None] * len(chains)
        kills = [0] * len(chains)
        #: Chains to spread over the actors (the first round), and chains to run one each
        #: (after their actor died under them).
        spread: list[int] = list(range(len(chains)))
        alone: list[int] = []
        while spread or alone:
            parts = self._assign(spread, alone)
            spread, alone = [], []
            refs = {
                actor.handle.run_chains.remote([chains[i] for i in part]): (actor, part)
                for actor, part in parts
            }
            for ref, (actor, part) in refs.items():
                try:
                    answers = ray.get(ref)
                except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
                    self._drop(actor, exc)
                    for index in part:
                        # A part of one chain ran alone: its actor's death is that chain's
                        # doing, or its node's.
                        kills[index] += len(part) == 1
                        if kills[index] >= MAX_KILLS:
                            done[index] = [_killed(chains[index], kills[index])]
                        else:
                            alone.append(index)
                    continue
                for index, results in zip(part, answers, strict=True):
                    done[index] = results
        assert all(results is not None for results in done)
        return [results for results in done if results is not None]

    def _assign(self, spread: list[int], alone: list[int]) -> list[tuple[_Actor, list[int]]]:
        """Parts for the actors: ``alone`` one chain each, round robin; ``spread`` cut into
        contiguous runs sized by each actor's share of the workers."""
        self._start_actors()  # where every actor has died
        actors = list(self.actors)
        parts = [(actors[turn % len(actors)], [index]) for turn, index in enumerate(alone)]
        total = sum(actor.info.workers for actor in actors)
        start = workers = 0
        for actor in actors:
            workers += actor.info.workers
            end = round(len(spread) * workers / total)
            if end > start:
                parts.append((actor, spread[start:end]))
            start = end
        return parts

    def _drop(self, actor: _Actor, exc: Exception) -> None:
        with self._lock:
            if actor not in self.actors:
                return
            self.actors = [a for a in self.actors if a is not actor]
            log.warning(
                "a sandbox actor died; its jobs run again elsewhere",
                node=actor.info.node[:8],
                host=actor.info.host,
                error=str(exc).splitlines()[0][:200],
            )

    def describe(self) -> list[ActorInfo]:
        return [actor.info for actor in self.actors]

    def close(self) -> None:
        ray = self._ray
        for actor in self.actors:
            try:
                ray.get(actor.handle.close.remote(), timeout=60)
            except ray.exceptions.RayError as exc:
                # Lost with its node, or hung: killing the actor ends its local sandbox too.
                log.warning(
                    "a sandbox actor did not close", host=actor.info.host, error=str(exc)[:200]
                )
            ray.kill(actor.handle)
        self.actors = []
        if self._started_ray:
            ray.shutdown()

    def __enter__(self) -> RaySandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _killed(chain: Chain, kills: int) -> JobResult:
    return JobResult(
        status="runtime-error",
        exit_code=None,
        stdout="",
        stderr="sandbox error: " + KILLED_ACTOR.format(kills=kills),
        wall_s=0.0,
        cpu_s=0.0,
    )

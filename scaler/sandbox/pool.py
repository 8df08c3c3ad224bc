"""What every backend that hosts runners shares: workers fed one job at a time from a queue.

Each worker (a runner process, a container) is owned by one thread that starts it, takes jobs
from a queue shared by all, and stops it; so a batch runs in parallel across the workers and
any number of threads may submit at once. Backends say how a worker is made and what to
release when the pool closes. The host's half of the runner's protocol (newline-delimited JSON:
a hello, then one answer per job) is here too, since every backend reads the same lines from
its own kind of stream.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from types import TracebackType
from typing import Any, Protocol, TypeVar

import attrs

from scaler.errors import ConfigError
from scaler.sandbox import runner
from scaler.sandbox.jobs import STATUSES, Chain, Job, JobResult

_Pool = TypeVar("_Pool", bound="WorkerPool")


class SandboxClosed(RuntimeError):
    pass


class WorkerLost(Exception):
    """The runner died, went silent, or wrote something that is not its answer."""


def next_line(buffer: bytearray, receive: Callable[[], None]) -> bytes:
    """The first line in ``buffer``, cut from it. ``receive`` adds what the runner wrote next
    to ``buffer``, or raises WorkerLost when nothing comes by its deadline (a hung runner must
    not hang the host); what follows the line stays for the next call."""
    scanned = 0
    while (end := buffer.find(b"\n", scanned)) < 0:
        scanned = len(buffer)
        receive()
    line = bytes(buffer[:end])
    del buffer[: end + 1]
    return line


def parse_message(line: bytes) -> dict[str, Any]:
    """One line of the runner's protocol: a JSON object, else the worker is not to be trusted."""
    try:
        message = json.loads(line)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        raise WorkerLost(f"garbled output: {line[:200]!r}")
    return message


def is_ready(hello: dict[str, Any]) -> bool:
    """Whether a runner's first message says it is ready and speaks this host's protocol."""
    return hello.get("ready") is True and hello.get("protocol") == runner.PROTOCOL


def batch_request(chains: Sequence[Chain], batch_id: int, keep_warm: bool) -> bytes:
    """The runner's request for a batch: each program's source once, then the runs."""
    programs: dict[str, int] = {}
    sources: list[dict[str, str]] = []
    runs = []
    for chain in chains:
        steps = []
        for position, job in enumerate(chain.jobs):
            program = job.program
            if program.hash not in programs:
                programs[program.hash] = len(sources)
                sources.append(
                    {"language": program.language, "hash": program.hash, "source": program.source}
                )
            step: dict[str, Any] = {
                "program": programs[program.hash],
                "limits": job.limits.to_dict(),
            }
            step.update({"field": chain.field} if position else {"stdin": job.stdin})
            steps.append(step)
        runs.append({"steps": steps})
    request = {"id": batch_id, "programs": sources, "runs": runs, "keep_warm": keep_warm}
    return json.dumps(request).encode() + b"\n"


def release_request(request_id: int) -> bytes:
    return json.dumps({"id": request_id, "release": True}).encode() + b"\n"


def check_released(answer: dict[str, Any], request_id: int) -> None:
    if answer != {"id": request_id, "released": True}:
        raise WorkerLost(f"garbled output: {json.dumps(answer)[:200]}")


def check_run_answer(answer: dict[str, Any], batch_id: int, index: int) -> dict[str, Any]:
    """``answer``, if it is run ``index`` of batch ``batch_id``: its results (each with a known
    status), or that it was skipped. Anything else: the worker is lost."""
    results = answer.get("results")
    fits = answer.get("id") == batch_id and answer.get("run") == index
    if fits and ("skipped" in answer or _known_results(results)):
        return answer
    raise WorkerLost(f"garbled output: {json.dumps(answer)[:200]}")


def _known_results(results: Any) -> bool:
    return (
        isinstance(results, list)
        and bool(results)
        and all(isinstance(r, dict) and r.get("status") in STATUSES for r in results)
    )


def chain_budget(chain: Chain, grace_s: float) -> float:
    """How long the host waits for a chain's answer: each job's budget, and one grace."""
    return sum(answer_budget(job, 0.0) for job in chain.jobs) + grace_s


def answer_budget(job: Job, grace_s: float) -> float:
    """How long the host waits for a job's answer: its wall-clock limit, a compile's when the
    program may need one, and the backend's ``grace_s`` for the runner's own overhead."""
    compile_s = runner.COMPILE_LIMITS.wall_s if job.program.language == "cpp" else 0.0
    return job.limits.wall_s + compile_s + grace_s


def lost_job(
    exc: WorkerLost, started: float, status: str = "runtime-error", detail: str = ""
) -> JobResult:
    """The result of a job whose worker was lost under it (``detail`` is appended to why)."""
    return JobResult(
        status=status,
        exit_code=None,
        stdout="",
        stderr=f"sandbox worker died: {exc}{detail}",
        wall_s=time.monotonic() - started,
        cpu_s=0.0,
    )


#: A chain's results, or None: not run here (the runner was retired, or lost its stream under
#: it), for the pool to hand to a worker again.
ChainOutcome = list[JobResult] | None


class Worker(Protocol):
    def start(self) -> None: ...

    def run_chains(
        self, chains: Sequence[Chain], batch_id: int, keep_warm: bool, retried: Sequence[bool]
    ) -> list[ChainOutcome]: ...

    def release(self, request_id: int) -> None:
        """Ends the runner's warm children, and returns once they are gone."""

    def interrupt(self) -> None:
        """From another thread: end the job in flight, so that ``close`` need not wait for it."""

    def stop(self) -> None: ...


@attrs.define
class _Pending:
    """A chain waiting for a worker, and whether it was handed out once already."""

    chain: Chain
    future: Future[list[JobResult]]
    retried: bool = False


class WorkerPool:
    """The queue, the threads and the life cycle; subclasses make the workers.

    The queue holds chunks of chains: a worker sends a chunk to its runner as one request and
    reads one answer per chain. With ``keep_warm``, a runner keeps its warm children between
    requests (until it has been idle for a while); without, they end with each request that
    finds the queue empty, so that nothing of a job outlives the work it was part of.
    """

    name = "pool"
    #: Chunks per worker a batch is cut into: enough to even out the workers' loads.
    CHUNKS_PER_WORKER = 2

    def __init__(self, keep_warm: bool = False) -> None:
        if not isinstance(keep_warm, bool):
            raise ConfigError(f"must be true or false, got {keep_warm!r}", field="keep_warm")
        self.keep_warm = keep_warm
        self._queue: queue.SimpleQueue[list[_Pending] | None] = queue.SimpleQueue()
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._closed = False
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._workers: list[Any] = []

    @property
    def workers(self) -> int:
        """How many jobs run at once."""
        return len(self._workers)

    def _start_workers(self, workers: Sequence[Worker], thread_name: str) -> None:
        """Starts one owning thread per worker and waits until every worker is ready."""
        atexit.register(self.close)
        ready: list[Future[None]] = []
        for i, worker in enumerate(workers):
            started: Future[None] = Future()
            thread = threading.Thread(
                target=self._serve, args=(worker, started), name=f"{thread_name}-{i}", daemon=True
            )
            self._workers.append(worker)
            self._threads.append(thread)
            ready.append(started)
            thread.start()
        for started in ready:
            started.result()

    def _serve(self, worker: Worker, started: Future[None]) -> None:
        """The thread that owns one worker. It also starts it: a runner's parent-death signal
        follows the creating thread, so it fires exactly when this thread ends."""
        try:
            worker.start()
        except BaseException as exc:
            started.set_exception(exc)
            worker.stop()
            return
        started.set_result(None)
        try:
            while (chunk := self._queue.get()) is not None:
                live = [p for p in chunk if not p.future.cancelled()]
                if live:
                    self._run_chunk(worker, live)
        finally:
            worker.stop()

    def _run_chunk(self, worker: Worker, chunk: list[_Pending]) -> None:
        try:
            self._before_job(worker)
            keep_warm = self.keep_warm or not self._queue.empty()
            outcomes = worker.run_chains(
                [p.chain for p in chunk], next(self._ids), keep_warm, [p.retried for p in chunk]
            )
            if keep_warm and not self.keep_warm and self._queue.empty():
                worker.release(next(self._ids))  # before any result is out: nothing outlives it
        except BaseException as exc:
            for pending in chunk:
                _settle(pending.future, exception=exc)
            return
        again = []
        for pending, outcome in zip(chunk, outcomes, strict=True):
            if outcome is None:
                pending.retried = True
                again.append(pending)
            else:
                _settle(pending.future, outcome)
        if again:
            self._queue.put(again)

    def _before_job(self, worker: Any) -> None:
        """A hook for backends that recycle workers."""

    def _release(self) -> None:
        """A hook: what the backend frees once every worker has stopped."""

    def submit(self, job: Job) -> Future[JobResult]:
        (chained,) = self._enqueue([Chain((job,))], 1)
        future: Future[JobResult] = Future()

        def first(done: Future[list[JobResult]]) -> None:
            if done.cancelled():
                future.cancel()
            elif (exc := done.exception()) is not None:
                future.set_exception(exc)
            else:
                future.set_result(done.result()[0])

        chained.add_done_callback(first)
        return future

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]:
        return [results[0] for results in self.run_chains([Chain((job,)) for job in jobs])]

    def run_chains(self, chains: Sequence[Chain]) -> list[list[JobResult]]:
        """Each chain's results, in order: the batch is cut into a few chunks per worker, each
        one request to a runner."""
        chunk_size = max(1, -(-len(chains) // (self.CHUNKS_PER_WORKER * max(1, self.workers))))
        futures = self._enqueue(chains, chunk_size)
        return [future.result() for future in futures]

    def _enqueue(self, chains: Sequence[Chain], chunk_size: int) -> list[Future[list[JobResult]]]:
        pending = [_Pending(chain, Future()) for chain in chains]
        with self._lock:
            if self._closed or self._closing.is_set():
                raise SandboxClosed(f"{type(self).__name__} is closed")
            for first in range(0, len(pending), chunk_size):
                self._queue.put(pending[first : first + chunk_size])
        return [p.future for p in pending]

    def close(self) -> None:
        """Cancels queued jobs and stops every worker (jobs in flight end with SandboxClosed)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._closing.set()
        atexit.unregister(self.close)
        with contextlib.suppress(queue.Empty):
            while (chunk := self._queue.get_nowait()) is not None:
                for pending in chunk:
                    pending.future.cancel()
        for _ in self._threads:
            self._queue.put(None)
        for worker in self._workers:
            worker.interrupt()
        for thread in self._threads:
            thread.join()
        self._release()

    def __enter__(self: _Pool) -> _Pool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _settle(
    future: Future[list[JobResult]],
    result: list[JobResult] | None = None,
    exception: BaseException | None = None,
) -> None:
    """Sets a future that may have been cancelled meanwhile (close)."""
    if future.cancelled():
        return
    with contextlib.suppress(InvalidStateError):
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result or [])

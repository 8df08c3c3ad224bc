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
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Protocol, TypeVar

from scaler.sandbox import runner
from scaler.sandbox.jobs import STATUSES, Job, JobResult

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


def check_answer(answer: dict[str, Any], job_id: int) -> dict[str, Any]:
    """``answer``, if it answers job ``job_id`` with a known status; any other message means
    the stream is out of step (or forged by the job), so the worker is lost."""
    if answer.get("id") != job_id or answer.get("status") not in STATUSES:
        raise WorkerLost(f"garbled output: {json.dumps(answer)[:200]}")
    return answer


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


class Worker(Protocol):
    def start(self) -> None: ...

    def run(self, job: Job, job_id: int) -> JobResult: ...

    def interrupt(self) -> None:
        """From another thread: end the job in flight, so that ``close`` need not wait for it."""

    def stop(self) -> None: ...


class WorkerPool:
    """The queue, the threads and the life cycle; subclasses make the workers."""

    name = "pool"

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Job, Future[JobResult]] | None] = queue.SimpleQueue()
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
            while (item := self._queue.get()) is not None:
                job, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    self._before_job(worker)
                    future.set_result(worker.run(job, next(self._ids)))
                except BaseException as exc:
                    future.set_exception(exc)
        finally:
            worker.stop()

    def _before_job(self, worker: Any) -> None:
        """A hook for backends that recycle workers."""

    def _release(self) -> None:
        """A hook: what the backend frees once every worker has stopped."""

    def submit(self, job: Job) -> Future[JobResult]:
        future: Future[JobResult] = Future()
        with self._lock:
            if self._closed or self._closing.is_set():
                raise SandboxClosed(f"{type(self).__name__} is closed")
            self._queue.put((job, future))
        return future

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]:
        futures = [self.submit(job) for job in jobs]
        return [future.result() for future in futures]

    def close(self) -> None:
        """Cancels queued jobs and stops every worker (jobs in flight end with SandboxClosed)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._closing.set()
        atexit.unregister(self.close)
        with contextlib.suppress(queue.Empty):
            while item := self._queue.get_nowait():
                item[1].cancel()
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

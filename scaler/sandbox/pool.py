"""What every backend that hosts runners shares: workers fed one job at a time from a queue.

Each worker (a runner process, a container) is owned by one thread that starts it, takes jobs
from a queue shared by all, and stops it; so a batch runs in parallel across the workers and
any number of threads may submit at once. Backends say how a worker is made and what to
release when the pool closes.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Protocol, TypeVar

from scaler.sandbox.jobs import Job, JobResult

_Pool = TypeVar("_Pool", bound="WorkerPool")


class SandboxClosed(RuntimeError):
    pass


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

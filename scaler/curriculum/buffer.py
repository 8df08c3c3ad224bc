"""Instances made ahead of need, in the background, keyed by (env version, level, seed).

The scheduler asks for the next step's instances speculatively while the trainer is still busy
with the current one (it knows the seeds and the levels the controllers can reach, not yet
which level each will pick). Whatever was guessed right is ready when the step starts; the rest
is made on demand. Guesses not taken by the step they were made for are dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from scaler.errors import InstanceError
from scaler.instances import InstanceFactory, Request
from scaler.model import Instance

Key = tuple[str, int, int]
Made = Instance | InstanceError


def _key(request: Request) -> Key:
    return (request.env.version, request.level, request.seed)


class InstanceBuffer:
    def __init__(self, factory: InstanceFactory) -> None:
        self.factory = factory
        self._lock = threading.Lock()
        self._entries: dict[Key, Future[Made]] = {}
        self._tasks: list[tuple[Future[None], list[Future[Made]]]] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scaler-prefetch")
        self.chunk = 2 * max(1, int(getattr(factory.sandbox, "workers", 2)))
        #: Instances made ahead that a step then used / that nobody asked for.
        self.hits = 0
        self.wasted = 0

    def prefetch(self, tiers: Sequence[Sequence[Request]]) -> None:
        """Start making requests in the background, tier by tier, most likely first.

        The first tier is one batch; later ones go in chunks of about two jobs per sandbox
        worker. Batches not yet started when the step arrives are abandoned, so speculation
        delays a fast trainer by at most the batch in progress (the sandbox serves its queue
        in order, so what the step needs waits behind it).
        """
        with self._lock:
            for index, tier in enumerate(tiers):
                todo = [r for r in tier if _key(r) not in self._entries]
                todo = list({_key(r): r for r in todo}.values())
                size = len(todo) if index == 0 else self.chunk
                for start in range(0, len(todo), max(size, 1)):
                    self._submit(todo[start : start + size])

    def _submit(self, requests: list[Request]) -> None:
        futures: list[Future[Made]] = [Future() for _ in requests]
        for request, future in zip(requests, futures, strict=True):
            self._entries[_key(request)] = future
        task = self._executor.submit(self._make, requests, futures)
        self._tasks.append((task, futures))

    def _make(self, requests: list[Request], futures: list[Future[Made]]) -> None:
        try:
            made = self.factory.make_each(requests)
        except BaseException as exc:
            for future in futures:
                future.set_exception(exc)
            return
        for future, item in zip(futures, made, strict=True):
            future.set_result(item)

    def take(self, requests: Sequence[Request]) -> list[Made]:
        """The instance (or its error) for each request; makes what was not guessed, now."""
        keys = [_key(r) for r in requests]
        with self._lock:
            for task, futures in self._tasks:
                if task.cancel():
                    for pending in futures:
                        pending.cancel()
            self._tasks.clear()
            ready = [self._entries.pop(key, None) for key in keys]
            ready = [None if f is not None and f.cancelled() else f for f in ready]
            self.wasted += sum(1 for f in self._entries.values() if not f.cancelled())
            self._entries.clear()
        missing = [r for r, future in zip(requests, ready, strict=True) if future is None]
        made = iter(self.factory.make_each(missing) if missing else [])
        results: list[Made] = []
        for future in ready:
            if future is None:
                results.append(next(made))
            else:
                self.hits += 1
                results.append(future.result())
        return results

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

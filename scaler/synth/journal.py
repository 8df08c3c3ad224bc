"""The synthesis journal: every finished stage, appended as it finishes, so nothing is redone.

One JSON object per line, written and fsynced before the work that depends on it goes on:

    {"problem_id", "event": "llm", "stage", "attempt", "response", ...usage}
    {"problem_id", "event": "checks", "generator": <program hash>, "results": [...]}
    {"problem_id", "event": "accepted", "env": {...}}
    {"problem_id", "event": "rejected", "stage", "reason", "check"}

A run killed at any moment (kill -9 included) leaves at worst one torn last line, which is
ignored; started again, the pipeline skips finished problems, replays recorded LLM answers
instead of asking again, and reuses check results for a generator it already checked.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from scaler.errors import ScalerError

FINAL = ("accepted", "rejected")


class Journal:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._llm: dict[tuple[str, str, int], dict[str, Any]] = {}
        self._checks: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._final: dict[str, dict[str, Any]] = {}
        self.torn = False
        for event in self._read():
            self._index(event)
        if self.torn:
            self._rewrite()
        self._handle = self.path.open("a", encoding="utf-8")

    def _read(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        lines = self.path.read_text(encoding="utf-8").split("\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                if number >= len(lines) - 1:
                    self.torn = True
                    return
                raise ScalerError(
                    f"{self.path}, line {number}: the journal is damaged ({exc.msg}); "
                    "only its last line may be torn"
                ) from exc
            yield event

    def _rewrite(self) -> None:
        """Drop a torn last line, so appends start on a line of their own."""
        from scaler.files import write_atomic

        events = list(self._events())
        write_atomic(self.path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events))

    def _events(self) -> Iterator[dict[str, Any]]:
        yield from ({"event": "llm", **e} for e in self._llm.values())
        for (problem_id, generator), results in self._checks.items():
            yield {
                "problem_id": problem_id,
                "event": "checks",
                "generator": generator,
                "results": results,
            }
        yield from self._final.values()

    def _index(self, event: dict[str, Any]) -> None:
        # Every event written carries its problem's id (see the module docstring).
        kind, problem_id = event.get("event"), cast(str, event.get("problem_id"))
        if kind == "llm":
            key = (problem_id, event["stage"], event["attempt"])
            self._llm[key] = {k: v for k, v in event.items() if k != "event"}
        elif kind == "checks":
            self._checks[(problem_id, event["generator"])] = event["results"]
        elif kind in FINAL:
            self._final[problem_id] = event

    def _append(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, ensure_ascii=False) + "\n"
        with self._lock:
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._index(event)

    def llm(self, problem_id: str, stage: str, attempt: int) -> str | None:
        entry = self._llm.get((problem_id, stage, attempt))
        return None if entry is None else str(entry["response"])

    def record_llm(
        self, problem_id: str, stage: str, attempt: int, response: str, **usage: Any
    ) -> None:
        self._append(
            {
                "problem_id": problem_id,
                "event": "llm",
                "stage": stage,
                "attempt": attempt,
                "response": response,
                **{k: v for k, v in usage.items() if v is not None},
            }
        )

    def checks(self, problem_id: str, generator: str) -> list[dict[str, Any]] | None:
        return self._checks.get((problem_id, generator))

    def record_checks(self, problem_id: str, generator: str, results: list[dict[str, Any]]) -> None:
        self._append(
            {
                "problem_id": problem_id,
                "event": "checks",
                "generator": generator,
                "results": results,
            }
        )

    def final(self, problem_id: str) -> dict[str, Any] | None:
        return self._final.get(problem_id)

    def record_final(self, event: dict[str, Any]) -> None:
        if event.get("event") not in FINAL:
            raise ValueError(f"not a final event: {event!r}")
        self._append(event)

    def finals(self) -> dict[str, dict[str, Any]]:
        return dict(self._final)

    def close(self) -> None:
        with self._lock:
            self._handle.close()

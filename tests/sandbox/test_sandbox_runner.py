"""The runner's wire protocol, spoken directly to a runner subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scaler.model import Limits, Program
from scaler.sandbox import runner
from scaler.sandbox.jobs import Job


class Runner:
    def __init__(self, tmp: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, runner.__file__, "--cache-dir", str(tmp), "--work-dir", str(tmp)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def send(self, line: bytes) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()
        return self.receive()

    def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        return json.loads(self.proc.stdout.readline())


@pytest.fixture
def raw_runner(tmp_path: Path) -> Iterator[Runner]:
    r = Runner(tmp_path)
    yield r
    r.proc.terminate()  # the runner's SIGTERM handler cleans up after itself
    r.proc.wait()


def request(job_id: int, source: str, stdin: str = "") -> bytes:
    return json.dumps(Job(Program("python", source), stdin, Limits()).to_wire(job_id)).encode()


def test_ready_line_then_results_then_clean_exit_at_eof(raw_runner: Runner) -> None:
    assert raw_runner.receive() == {"ready": True, "pid": raw_runner.proc.pid, "protocol": 1}
    result = raw_runner.send(request(5, "print(input() + '!')", "hey"))
    assert result == {
        "id": 5,
        "status": "ok",
        "exit_code": 0,
        "stdout": "hey!\n",
        "stderr": "",
        "wall_s": result["wall_s"],
        "cpu_s": result["cpu_s"],
    }
    assert isinstance(result["wall_s"], float) and isinstance(result["cpu_s"], float)
    assert raw_runner.proc.stdin is not None
    raw_runner.proc.stdin.close()
    assert raw_runner.proc.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("line", "job_id", "reason"),
    [
        (b"this is not json", None, "not JSON"),
        (b"[1, 2]", None, "not a JSON object"),
        (b"", None, "not JSON"),
        (b'{"id": 7, "language": "cobol", "hash": "h", "source": "", "stdin": ""}', 7, "language"),
        (b'{"id": 8, "language": "python", "hash": "h", "source": "", "stdin": ""}', 8, "limits"),
        (
            b'{"id": 9, "language": "cpp", "hash": "../../etc", "source": "", "stdin": "",'
            b' "limits": {"cpu_s": 1, "wall_s": 1, "memory_mb": 64, "processes": 1,'
            b' "output_bytes": 10}}',
            9,
            "hash",
        ),
    ],
    ids=["not-json", "not-an-object", "empty", "bad-language", "no-limits", "bad-hash"],
)
def test_malformed_request_gets_an_error_and_the_runner_goes_on(
    raw_runner: Runner, line: bytes, job_id: int | None, reason: str
) -> None:
    raw_runner.receive()
    result = raw_runner.send(line)
    assert (result["id"], result["status"], result["exit_code"]) == (job_id, "runtime-error", None)
    assert "malformed request" in result["stderr"] and reason in result["stderr"]
    assert raw_runner.send(request(10, "print('still here')"))["stdout"] == "still here\n"

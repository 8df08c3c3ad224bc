"""Logging: the library never prints (a program importing scaler keeps its stdout, and gets
scaler's records only through ``logging``), and the command line renders the library's loggers
and its own alike on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import structlog

from scaler import logs

#: A real library warning: the OpenAI client's "llm.retry", against a port nothing serves.
RETRY_WARNING = """
import logging, sys
from scaler.synth.llm import LLMError, LLMRequest
from scaler.synth.llm_openai import OpenAIClient
if sys.argv[1] == "logging":
    logging.basicConfig(stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
client = OpenAIClient("m", base_url="http://127.0.0.1:9/v1", retries=1, sleep=lambda s: None)
try:
    client.complete(LLMRequest("p1", "extract", 0, ({"role": "user", "content": "hi"},)))
except LLMError:
    print("no answer")
"""


def library_warning(setup: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run(
        [sys.executable, "-c", RETRY_WARNING, setup],
        capture_output=True,
        text=True,
        check=True,
        env=environ,
    )


def test_a_library_warning_with_nothing_configured_writes_nothing() -> None:
    done = library_warning("nothing")
    assert done.stdout == "no answer\n", "the library wrote to the program's stdout"
    assert done.stderr == ""


def test_a_library_warning_reaches_whoever_configured_logging() -> None:
    done = library_warning("logging")
    assert done.stdout == "no answer\n"
    assert done.stderr.startswith("WARNING scaler.synth.llm_openai {")
    assert "'event': 'llm.retry'" in done.stderr


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_the_cli_renders_library_and_cli_loggers_alike_on_stderr(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    library = logs.get_logger("scaler.synth.pipeline")
    cli = structlog.get_logger("scaler.cli")
    logs.configure(0, fmt)
    logs.configure(0, fmt)  # a second in-process CLI call adds no second handler
    library.warning("llm failed", problem="p1")
    cli.warning("llm failed", problem="p1")
    library.info("accepted", problem="p1")
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    if fmt == "json":
        records = [json.loads(line) for line in lines]
        for record in records:
            assert record.pop("timestamp")
        assert (
            records[0] == records[1] == {"problem": "p1", "event": "llm failed", "level": "warning"}
        )
    else:
        assert lines[0].split(" ", 1)[1] == lines[1].split(" ", 1)[1]
        assert "[warning  ] llm failed" in lines[0] and "problem=p1" in lines[0]


def test_verbosity_lowers_the_library_loggers_level(capsys: pytest.CaptureFixture[str]) -> None:
    library = logs.get_logger("scaler.synth.pipeline")
    logs.configure(1, "json")
    library.debug("hidden")
    library.info("shown")
    logs.configure(2, "json")
    library.debug("shown too")
    events = [json.loads(line)["event"] for line in capsys.readouterr().err.splitlines()]
    assert events == ["shown", "shown too"]

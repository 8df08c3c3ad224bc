"""Evaluating a policy on environments, against a local chat-completions server.

The server knows every prompt's ground truth (the test fills it from the instances it builds)
and answers right a fixed number of times per (env, level), so accuracies, intervals and
frontiers are known exactly; it counts requests, so resuming from a results file is checked by
the server seeing nothing.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scaler.errors import ScalerError
from scaler.evaluate.envs import (
    calls,
    evaluate_envs,
    frontier_level,
    render_markdown,
    wilson_interval,
)
from scaler.evaluate.policies import OpenAIPolicy, Policy
from scaler.instances import InstanceFactory, Request
from scaler.model import ENVIRONMENTS, EnvSpec
from scaler.plugins import Plugins

ENVS = ("lis-length", "max-subarray-sum")
LEVELS = (0, 1, 2)
N = 4
#: Right answers the server gives per (env, level) out of N: lis-length's frontier is level 1,
#: max-subarray-sum's is level 0.
RIGHT = {
    ("lis-length", 0): 4,
    ("lis-length", 1): 2,
    ("lis-length", 2): 0,
    ("max-subarray-sum", 0): 4,
    ("max-subarray-sum", 1): 1,
    ("max-subarray-sum", 2): 3,
}


pytestmark = pytest.mark.usefixtures("no_openai_environment")


class GradingServer:
    """Answers ``\\boxed{answer}`` for the first RIGHT[(env, level)] requests, then wrongly."""

    def __init__(self) -> None:
        #: Prompt (the last message's text) -> (env id, level, answer).
        self.truth: dict[str, tuple[str, int, str]] = {}
        self.given: dict[tuple[str, int], int] = {}
        self.requests = 0
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                env_id, level, answer = server.truth[body["messages"][-1]["content"]]
                with server.lock:
                    server.requests += 1
                    server.bodies.append(body)
                    done = server.given.get((env_id, level), 0)
                    right = done < RIGHT[(env_id, level)]
                    server.given[(env_id, level)] = done + 1
                text = f"So the answer is \\boxed{{{answer if right else 'no idea'}}}."
                reply = json.dumps(
                    {"choices": [{"message": {"role": "assistant", "content": text}}]}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read the counts."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def server() -> Iterator[GradingServer]:
    grading = GradingServer()
    grading.thread.start()
    try:
        yield grading
    finally:
        grading.httpd.shutdown()
        grading.httpd.server_close()
        grading.thread.join(5)


@pytest.fixture
def envs(plugins: Plugins) -> list[EnvSpec]:
    return [plugins.get(ENVIRONMENTS, name) for name in ENVS]


@pytest.fixture
def factory(sandbox: Any, plugins: Plugins) -> InstanceFactory:
    return InstanceFactory(sandbox, plugins)


def teach(server: GradingServer, factory: InstanceFactory, envs: list[EnvSpec]) -> None:
    """Give the server the ground truth of every instance the evaluation will ask."""
    for env in envs:
        for level in LEVELS:
            for instance in factory.sample(env, level, 0, N):
                key = instance.messages[-1]["content"]
                server.truth[key] = (env.id, level, instance.answer)


def policy(server: GradingServer) -> OpenAIPolicy:
    return OpenAIPolicy("test-model", base_url=server.base_url, retries=0, concurrency=4)


def test_wilson_interval_and_frontier_rule() -> None:
    low, high = wilson_interval(8, 8)
    assert low > 0.6 and high == 1.0
    assert wilson_interval(4, 4)[0] == pytest.approx(0.5101, abs=1e-4)
    low, high = wilson_interval(0, 8)
    assert low == 0.0 and high == pytest.approx(0.3244, abs=1e-4)
    low, high = wilson_interval(4, 8)
    assert low == pytest.approx(1 - high) and low < 0.5 < high
    assert wilson_interval(0, 0) == (0.0, 1.0)
    # A scan from the lowest level: a lucky level after a failed one does not count.
    assert frontier_level({0: 1.0, 1: 0.5, 2: 0.25, 3: 0.75}) == 1
    assert frontier_level({0: 0.25, 1: 1.0}) is None
    assert frontier_level({}) is None


def test_policy_sends_the_paper_defaults(server: GradingServer) -> None:
    server.truth["q"] = ("lis-length", 0, "3")
    llm = policy(server)
    assert isinstance(llm, Policy)
    assert llm.settings == {"temperature": 0.6, "top_p": 0.95, "max_tokens": None}
    answers = llm.generate([[{"role": "user", "content": "q"}]] * 2, 3)
    assert [len(a) for a in answers] == [3, 3]
    assert server.requests == 6
    assert {(b["temperature"], b["top_p"]) for b in server.bodies} == {(0.6, 0.95)}


def test_evaluation_scores_levels_writes_results_and_resumes(
    server: GradingServer,
    factory: InstanceFactory,
    envs: list[EnvSpec],
    plugins: Plugins,
    tmp_path: Path,
) -> None:
    teach(server, factory, envs)
    results = tmp_path / "results.jsonl"
    seen: list[dict[str, Any]] = []

    evaluation = evaluate_envs(
        policy(server),
        envs,
        factory,
        plugins,
        levels=LEVELS,
        n=N,
        results_path=results,
        on_result=seen.append,
    )

    assert server.requests == len(ENVS) * len(LEVELS) * N
    assert (evaluation.asked, evaluation.resumed) == (24, 0)
    by_env = {e.env_id: e for e in evaluation.envs}
    for (env_id, level), right in RIGHT.items():
        result = by_env[env_id].levels[level]
        assert (result.level, result.n, result.acc) == (level, N, right / N)
        assert (result.low, result.high) == wilson_interval(right, N)
    lis = by_env["lis-length"].levels
    assert lis[0].acc == 1.0 and lis[0].low > 0.5 and lis[2].high < 0.5
    assert by_env["lis-length"].frontier == 1
    assert by_env["max-subarray-sum"].frontier == 0

    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert lines == seen and len(lines) == 24
    assert {(r["env"], r["level"], r["seed"]) for r in lines} == {
        (e, level, s) for e in ENVS for level in LEVELS for s in range(N)
    }
    versions = {e.id: e.version for e in envs}
    for line in lines:
        assert line["env_version"] == versions[line["env"]]
        assert line["policy"] == "test-model"
        assert line["settings"] == {"max_tokens": None, "temperature": 0.6, "top_p": 0.95}
        assert line["acc"] in (0.0, 1.0) and line["response_chars"] > 0

    data = evaluation.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["envs"][0]["frontier"] == 1
    table = render_markdown(evaluation)
    assert "| lis-length | 0 | 4 | 1.000 | [0.510, 1.000] |" in table

    # The same results file again: nothing is asked, the numbers are the same.
    again = evaluate_envs(
        policy(server), envs, factory, plugins, levels=LEVELS, n=N, results_path=results
    )
    assert server.requests == 24
    assert (again.asked, again.resumed) == (0, 24)
    assert again.envs == evaluation.envs


def test_a_killed_run_resumes_where_it_stopped(
    server: GradingServer,
    factory: InstanceFactory,
    envs: list[EnvSpec],
    plugins: Plugins,
    tmp_path: Path,
) -> None:
    teach(server, factory, envs)
    results = tmp_path / "results.jsonl"
    evaluate_envs(policy(server), envs, factory, plugins, levels=LEVELS, n=N, results_path=results)
    lines = results.read_text().splitlines()
    # Killed after 10 lines and half of the 11th.
    results.write_text("\n".join(lines[:10]) + "\n" + lines[10][:15])

    resumed = evaluate_envs(
        policy(server), envs, factory, plugins, levels=LEVELS, n=N, results_path=results
    )

    assert (resumed.asked, resumed.resumed) == (14, 10)
    assert server.requests == 24 + 14
    now = [json.loads(line) for line in results.read_text().splitlines()]
    # The partial line is gone; the file is whole lines again, the first ten kept as they were.
    assert len(now) == 24 and now[:10] == [json.loads(line) for line in lines[:10]]
    assert {(r["env"], r["level"], r["seed"]) for r in now} == {
        (e, level, s) for e in ENVS for level in LEVELS for s in range(N)
    }


def test_calls_hold_whole_groups_up_to_the_batch(envs: list[EnvSpec]) -> None:
    pending = [Request(env, level, s) for env in envs for level in LEVELS for s in range(N)]
    # 6 groups of 4: two whole groups per call of 9 (not 9, 9, 6 cutting groups), one per call
    # of 4, all in one call of 64; a group larger than the batch split into calls of the batch.
    assert [len(chunk) for chunk in calls(pending, 9)] == [8, 8, 8]
    assert [len(chunk) for chunk in calls(pending, 4)] == [4] * 6
    assert [len(chunk) for chunk in calls(pending, 64)] == [24]
    assert [len(chunk) for chunk in calls(pending, 3)] == [3, 1] * 6
    for batch in (1, 3, 4, 9, 64):
        chunks = list(calls(pending, batch))
        assert [r for chunk in chunks for r in chunk] == pending
        if batch >= N:
            spans = [{(r.env.id, r.level) for r in chunk} for chunk in chunks]
            assert all(not a & b for a, b in itertools.pairwise(spans))


def test_a_killed_run_loses_only_the_groups_of_the_call_in_flight(
    server: GradingServer,
    factory: InstanceFactory,
    envs: list[EnvSpec],
    plugins: Plugins,
    tmp_path: Path,
) -> None:
    teach(server, factory, envs)
    results = tmp_path / "results.jsonl"

    class Killed(Exception):
        pass

    def kill_at_the_third_call(record: dict[str, Any]) -> None:
        if server.requests > 2 * N:
            raise Killed

    with pytest.raises(Killed):
        evaluate_envs(
            policy(server), envs, factory, plugins, levels=LEVELS, n=N,
            results_path=results, on_result=kill_at_the_third_call, batch=N,
        )  # fmt: skip
    kept = [json.loads(line) for line in results.read_text().splitlines()]
    # The third call's group was written before its first result reached the callback: three
    # whole groups are in the file, and no part of another.
    groups = {(r["env"], r["level"]) for r in kept}
    assert len(kept) == 3 * N and len(groups) == 3
    resumed = evaluate_envs(
        policy(server), envs, factory, plugins, levels=LEVELS, n=N, results_path=results, batch=N
    )
    assert (resumed.asked, resumed.resumed) == (3 * N, 3 * N)


def test_a_results_file_of_other_settings_is_refused(
    server: GradingServer,
    factory: InstanceFactory,
    envs: list[EnvSpec],
    plugins: Plugins,
    tmp_path: Path,
) -> None:
    teach(server, factory, envs)
    results = tmp_path / "results.jsonl"
    evaluate_envs(
        policy(server), envs[:1], factory, plugins, levels=(0,), n=N, results_path=results
    )
    other = OpenAIPolicy("test-model", base_url=server.base_url, temperature=1.0, retries=0)
    with pytest.raises(ScalerError, match="one results file per policy"):
        evaluate_envs(other, envs[:1], factory, plugins, levels=(0,), n=N, results_path=results)
    with pytest.raises(ScalerError, match="out of range"):
        evaluate_envs(policy(server), envs[:1], factory, plugins, levels=(99,), n=N)

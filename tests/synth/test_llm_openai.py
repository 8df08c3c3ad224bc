"""The OpenAI-compatible client against a real local HTTP server, plus recordings and replay.

The server speaks just enough of the chat-completions protocol and follows a script per test, so
retries, timeouts and concurrency are exercised over real sockets; the client's sleep between
attempts is injected, so no test waits for a backoff.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest

from scaler.errors import ConfigError, ScalerError
from scaler.plugins import Plugins
from scaler.synth.llm import (
    LLMS,
    Completion,
    LLMError,
    LLMRequest,
    Recorder,
    ReplayClient,
    messages,
)
from scaler.synth.llm_openai import OpenAIClient

pytestmark = pytest.mark.usefixtures("no_openai_environment")


@attrs.frozen
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = attrs.field(factory=dict)
    #: Never answer (until the test ends): the client's timeout must fire.
    hang: bool = False
    #: Hold the request this long before answering (counted as in flight meanwhile).
    hold_s: float = 0.0
    #: Before answering, wait (up to 2 s) until this many requests are in flight at once.
    peers: int = 0


def answer(text: str, prompt_tokens: int = 11, completion_tokens: int = 7) -> Reply:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    return Reply(body=json.dumps(body).encode())


def error(status: int, message: str, **headers: str) -> Reply:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": status}}
    return Reply(status, json.dumps(body).encode(), dict(headers))


@attrs.define
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeServer:
    """A chat-completions server on 127.0.0.1 that answers from a script, then with a default."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.default = answer("default answer")
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.cond = threading.Condition()
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with server.cond:
                    server.seen.append(Seen(self.path, dict(self.headers), json.loads(raw)))
                    reply = server.script.pop(0) if server.script else server.default
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    server.cond.notify_all()
                try:
                    if reply.peers:
                        with server.cond:
                            server.cond.wait_for(lambda: server.in_flight >= reply.peers, 2.0)
                    if reply.hold_s:
                        time.sleep(reply.hold_s)
                    if reply.hang:
                        server.release.wait(10.0)
                finally:
                    # Leave the count before answering: the client frees its slot only once it
                    # has the answer, so a request counted here always holds one of its slots.
                    with server.cond:
                        server.in_flight -= 1
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up on this request (its timeout)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read what the server saw from ``seen``."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval: shutdown() waits for the next poll, once per test.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def wait_seen(self, count: int, timeout_s: float = 2.0) -> int:
        """How many requests arrived, once ``count`` have or the time is up."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.seen) >= count, timeout_s)
            return len(self.seen)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        fake.httpd.shutdown()
        fake.httpd.server_close()
        fake.thread.join(5)


def client(server: FakeServer, **options: Any) -> tuple[OpenAIClient, list[float]]:
    sleeps: list[float] = []
    options.setdefault("seed", 0)
    llm = OpenAIClient("test-model", base_url=server.base_url, sleep=sleeps.append, **options)
    return llm, sleeps


def request(problem_id: str = "p1", stage: str = "extract", attempt: int = 0) -> LLMRequest:
    return LLMRequest(
        problem_id, stage, attempt, messages("You are terse.", f"Solve {problem_id}.")
    )


# -- answers ------------------------------------------------------------------------------------


def test_answer_sends_the_chat_and_counts_tokens(server: FakeServer) -> None:
    server.script = [answer("first", 11, 7), answer("second", 20, 5)]
    llm, sleeps = client(
        server,
        api_key="sk-test",
        temperature=0.3,
        max_tokens=256,
        top_p=0.9,
        extra_body={"chat_template_kwargs": {"enable_thinking": False}},
    )

    assert llm.complete(request("p1")) == Completion("first", 11, 7)
    assert llm.complete(request("p2", "generator", 1)) == Completion("second", 20, 5)

    seen = server.seen[0]
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["Authorization"] == "Bearer sk-test"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.body == {
        "model": "test-model",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Solve p1."},
        ],
        "temperature": 0.3,
        "max_tokens": 256,
        "top_p": 0.9,
        "chat_template_kwargs": {"enable_thinking": False},
    }
    assert llm.usage == {
        "prompt_tokens": 31,
        "completion_tokens": 12,
        "requests": 2,
        "retries": 0,
    }
    assert sleeps == []


def test_without_a_key_no_authorization_is_sent_and_unset_options_are_left_out(
    server: FakeServer,
) -> None:
    llm, _ = client(server)
    assert llm.complete(request()).text == "default answer"
    assert "Authorization" not in server.seen[0].headers
    assert set(server.seen[0].body) == {"model", "messages", "temperature"}
    assert server.seen[0].body["temperature"] == 0.6


def test_a_reply_without_usage_still_answers(server: FakeServer) -> None:
    body = {"choices": [{"message": {"role": "assistant", "content": "ok"}}]}
    server.script = [Reply(body=json.dumps(body).encode())]
    llm, _ = client(server)
    assert llm.complete(request()) == Completion("ok", None, None)
    assert llm.usage["prompt_tokens"] == 0
    assert llm.usage["requests"] == 1


def test_base_url_and_key_come_from_the_environment(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    llm = OpenAIClient("env-model")
    assert llm.url == server.base_url + "/chat/completions"
    assert llm.complete(request()).text == "default answer"
    assert server.seen[0].headers["Authorization"] == "Bearer sk-from-env"
    assert server.seen[0].body["model"] == "env-model"


def test_options_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.invalid/v1")
    llm = OpenAIClient("m", base_url="http://option.invalid/v1")
    assert llm.url == "http://option.invalid/v1/chat/completions"


def test_the_default_base_url_is_a_local_vllm_server() -> None:
    assert OpenAIClient("m").url == "http://localhost:8000/v1/chat/completions"


# -- retries ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("retry_after", "waited"), [("3", 3.0), ("120", 10.0)])
def test_429_waits_as_long_as_the_server_asks_then_retries(
    server: FakeServer, retry_after: str, waited: float
) -> None:
    server.script = [error(429, "slow down", **{"Retry-After": retry_after}), answer("after")]
    llm, sleeps = client(server, max_backoff_s=10.0)
    assert llm.complete(request()).text == "after"
    assert sleeps == [waited]
    assert len(server.seen) == 2
    assert llm.usage["requests"] == 2
    assert llm.usage["retries"] == 1


def test_500_twice_then_success_backs_off_with_jitter(server: FakeServer) -> None:
    server.script = [error(500, "boom"), error(503, "restarting"), answer("finally")]
    llm, sleeps = client(server, backoff_s=0.5, retries=5)
    assert llm.complete(request()).text == "finally"
    assert len(server.seen) == 3
    assert len(sleeps) == 2
    assert 0.0 <= sleeps[0] <= 0.5
    assert 0.0 <= sleeps[1] <= 1.0
    assert llm.usage == {"prompt_tokens": 11, "completion_tokens": 7, "requests": 3, "retries": 2}

    # The jitter comes from the seeded generator, so the same seed waits the same.
    server.script = [error(500, "boom"), error(503, "restarting"), answer("finally")]
    again, sleeps_again = client(server, backoff_s=0.5, retries=5)
    again.complete(request())
    assert sleeps_again == sleeps


def test_backoff_is_capped(server: FakeServer) -> None:
    server.script = [error(502, "bad gateway")] * 4
    llm, sleeps = client(server, backoff_s=10.0, max_backoff_s=0.25, retries=4)
    assert llm.complete(request()).text == "default answer"
    assert len(sleeps) == 4
    assert all(0.0 <= delay <= 0.25 for delay in sleeps)


def test_400_fails_at_once_with_the_status_and_the_servers_message(server: FakeServer) -> None:
    server.script = [error(400, "The model `nope` does not exist.")]
    llm, sleeps = client(server, retries=5)
    with pytest.raises(LLMError) as caught:
        llm.complete(request())
    message = str(caught.value)
    assert "HTTP 400" in message
    assert "The model `nope` does not exist." in message
    assert server.base_url in message
    assert len(server.seen) == 1
    assert sleeps == []
    assert llm.usage["retries"] == 0


def test_a_long_error_body_is_truncated(server: FakeServer) -> None:
    server.script = [Reply(401, b"x" * 2000)]
    llm, _ = client(server)
    with pytest.raises(LLMError) as caught:
        llm.complete(request())
    message = str(caught.value)
    assert "HTTP 401" in message
    assert "x" * 500 + "..." in message
    assert "x" * 501 not in message


def test_a_server_that_never_answers_fails_after_the_retries(server: FakeServer) -> None:
    server.default = Reply(hang=True)
    llm, sleeps = client(server, timeout_s=0.2, retries=1)
    with pytest.raises(LLMError) as caught:
        llm.complete(request("slow", "repair", 2))
    message = str(caught.value)
    assert server.base_url in message
    assert "after 2 attempts" in message
    assert "no answer within 0.2 s" in message
    assert "'slow'" in message and "repair" in message
    assert llm.usage["requests"] == 2
    assert server.wait_seen(2) == 2
    assert len(sleeps) == 1


def test_a_refused_connection_is_retried_then_named() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    llm = OpenAIClient(
        "m", base_url=f"http://127.0.0.1:{port}/v1", retries=2, sleep=sleeps.append, seed=1
    )
    with pytest.raises(LLMError) as caught:
        llm.complete(request())
    message = str(caught.value)
    assert f"http://127.0.0.1:{port}/v1/chat/completions" in message
    assert "after 3 attempts" in message
    assert "cannot connect" in message
    assert len(sleeps) == 2
    assert llm.usage["requests"] == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html>Bad Gateway</html>", "not JSON"),
        (b'{"choices": []}', "choices[0].message.content"),
        (b'{"choices": [{"message": {"content": null}}]}', "choices[0].message.content"),
        (b'{"object": "list"}', '{"object": "list"}'),
    ],
)
def test_a_malformed_reply_is_an_error_quoting_it(
    server: FakeServer, body: bytes, expected: str
) -> None:
    server.script = [Reply(body=body)]
    llm, sleeps = client(server)
    with pytest.raises(LLMError) as caught:
        llm.complete(request())
    assert expected in str(caught.value)
    assert len(server.seen) == 1
    assert sleeps == []


# -- concurrency --------------------------------------------------------------------------------


def test_no_more_requests_in_flight_than_the_concurrency(server: FakeServer) -> None:
    server.default = attrs.evolve(answer("together"), peers=2, hold_s=0.1)
    llm, _ = client(server, concurrency=2)
    start = threading.Barrier(6)
    results: list[str] = []
    failures: list[BaseException] = []

    def call(index: int) -> None:
        start.wait()
        try:
            results.append(llm.complete(request(f"p{index}")).text)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert failures == []
    assert results == ["together"] * 6
    assert server.max_in_flight == 2
    assert llm.usage["requests"] == 6


# -- options ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timeout_s", 0),
        ("timeout_s", -1.0),
        ("timeout_s", "fast"),
        ("retries", -1),
        ("retries", 1.5),
        ("retries", True),
        ("backoff_s", -0.1),
        ("max_backoff_s", float("nan")),
        ("concurrency", 0),
        ("temperature", -0.5),
        ("max_tokens", 0),
        ("top_p", 0),
        ("top_p", 1.5),
        ("extra_body", ["not", "a", "table"]),
        ("extra_body", {"bad": object()}),
        ("base_url", "localhost:8000/v1"),
    ],
)
def test_invalid_options_name_the_field(field: str, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        OpenAIClient("m", **{field: value})
    assert caught.value.field == field
    assert f"field {field!r}" in str(caught.value)


def test_an_empty_model_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        OpenAIClient("")
    assert caught.value.field == "model"


def test_zero_retries_is_one_attempt(server: FakeServer) -> None:
    server.script = [error(503, "down")]
    llm, sleeps = client(server, retries=0)
    with pytest.raises(LLMError, match=r"after 1 attempt;.*HTTP 503: down"):
        llm.complete(request())
    assert sleeps == []


# -- recordings and replay ----------------------------------------------------------------------


def test_a_recording_replays_the_same_answers(server: FakeServer, tmp_path: Path) -> None:
    server.script = [answer("extracted", 100, 10), answer("generator code", 200, 20)]
    path = tmp_path / "recording.jsonl"
    recorder = Recorder(client(server)[0], path)
    asked = [request("p1", "extract", 0), request("p1", "generator", 0)]
    live = [recorder.complete(item) for item in asked]
    recorder.close()

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(line["problem_id"], line["stage"], line["attempt"]) for line in lines] == [
        ("p1", "extract", 0),
        ("p1", "generator", 0),
    ]
    assert lines[0]["model"] == "test-model"

    replay = ReplayClient(str(path))
    assert [replay.complete(item) for item in asked] == live
    assert live == [Completion("extracted", 100, 10), Completion("generator code", 200, 20)]
    assert len(server.seen) == 2  # the replay asked no server


def test_replay_of_an_unrecorded_request_names_problem_stage_and_attempt(tmp_path: Path) -> None:
    path = tmp_path / "recording.jsonl"
    line = {"problem_id": "p1", "stage": "extract", "attempt": 0, "response": "x"}
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    replay = ReplayClient(str(path))
    with pytest.raises(LLMError) as caught:
        replay.complete(request("p1", "generator", 3))
    message = str(caught.value)
    assert "'p1'" in message
    assert "stage generator" in message
    assert "attempt 3" in message
    assert str(path) in message


GOOD = {"problem_id": "p1", "stage": "extract", "attempt": 0, "response": "ok"}


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps(["a", "list"]), "JSON object"),
        (json.dumps({**GOOD, "problem_id": ""}), "'problem_id'"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "problem_id"}), "'problem_id'"),
        (json.dumps({**GOOD, "stage": "polish"}), "'stage'"),
        (json.dumps({**GOOD, "attempt": -1}), "'attempt'"),
        (json.dumps({**GOOD, "attempt": "0"}), "'attempt'"),
        (json.dumps({**GOOD, "response": None}), "'response'"),
        (json.dumps(GOOD), "a second answer"),
    ],
)
def test_a_malformed_recording_line_is_refused_with_file_line_and_field(
    tmp_path: Path, line: str, field: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ScalerError) as caught:
        ReplayClient(str(path))
    message = str(caught.value)
    assert f"{path}, line 2" in message
    assert field in message


def test_a_missing_recording_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.jsonl"
    with pytest.raises(ScalerError, match="cannot read the recording"):
        ReplayClient(str(path))


# -- vllm and the plugin registry ---------------------------------------------------------------


def test_the_vllm_client_without_vllm_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scaler.synth.llm_vllm import VLLMClient

    monkeypatch.setitem(sys.modules, "vllm", None)  # importing it now fails, installed or not
    with pytest.raises(ScalerError, match=r"pip install 'scaler\[vllm\]'"):
        VLLMClient("Qwen/Qwen3-8B")


def test_the_llm_clients_are_registered_by_name(
    plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    openai = plugins.get(LLMS, "openai")("served-model", base_url="http://127.0.0.1:9/v1")
    assert isinstance(openai, OpenAIClient)
    assert openai.model == "served-model"

    path = tmp_path / "recording.jsonl"
    path.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    replay = plugins.get(LLMS, "replay")(str(path))
    assert replay.complete(request("p1", "extract", 0)).text == "ok"

    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(ScalerError, match=r"pip install 'scaler\[vllm\]'"):
        plugins.get(LLMS, "vllm")("Qwen/Qwen3-8B")

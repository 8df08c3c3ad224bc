from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scaler.instances import InstanceFactory
from scaler.model import ENVIRONMENTS
from scaler.plugins import Plugins
from tests.evaluate.test_envs import ENVS, GradingServer, server, teach

__all__ = ["server"]
pytestmark = pytest.mark.usefixtures("no_openai_environment")
pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def test_eval_envs_writes_results_report_plot_and_resumes(
    run: Any, server: GradingServer, sandbox: Any, plugins: Plugins, tmp_path: Path
) -> None:
    envs = [plugins.get(ENVIRONMENTS, name) for name in ENVS]
    teach(server, InstanceFactory(sandbox, plugins), envs)
    out = tmp_path / "eval"
    args = (
        "eval", "openai:test-model", "--policy-option", f"base_url={server.base_url}",
        "--policy-option", "retries=0", "--envs", ",".join(ENVS), "--levels", "0,1,2",
        "-n", "4", "--out", str(out), "--backend", "process", "--json",
    )  # fmt: skip
    code, stdout, err = run(*args)
    assert code == 0, err
    data = json.loads(stdout)
    by_env = {env["env_id"]: env for env in data["envs"]}
    assert [lv["acc"] for lv in by_env["lis-length"]["levels"]] == [1.0, 0.5, 0.0]
    assert by_env["lis-length"]["frontier"] == 1
    assert data["settings"]["temperature"] == 0.6 and data["settings"]["top_p"] == 0.95
    assert len((out / "results.jsonl").read_text().splitlines()) == 24
    assert (out / "accuracy.png").read_bytes().startswith(b"\x89PNG")
    assert "accuracy.png" in (out / "report.md").read_text()
    asked = server.requests
    code, stdout, err = run(*args)
    assert code == 0, err
    assert server.requests == asked and json.loads(stdout)["resumed"] == 24
    # One (env, level) group per call, into a fresh directory: the same accuracies.
    server.given.clear()
    one_group = [arg if arg != str(out) else str(tmp_path / "by-group") for arg in args]
    code, stdout, err = run(*one_group, "--batch", "4")
    assert code == 0, err
    accuracies = [[lv["acc"] for lv in env["levels"]] for env in json.loads(stdout)["envs"]]
    assert accuracies == [[lv["acc"] for lv in env["levels"]] for env in data["envs"]]


class AnswerServer:
    """Right for the questions whose ground truth it is told, wrong for the rest."""

    def __init__(self, right: dict[str, str]) -> None:
        self.right = right
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests += 1
                answer = outer.right.get(body["messages"][-1]["content"], "nonsense")
                reply = json.dumps(
                    {"choices": [{"message": {"content": f"\\boxed{{{answer}}}"}}]}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def answers() -> Iterator[AnswerServer]:
    serving = AnswerServer({"What is 1/2 + 1/4?": "\\frac{3}{4}"})
    yield serving
    serving.httpd.shutdown()
    serving.httpd.server_close()


def test_eval_bench_avg_at_k_with_latex_answers_and_resume(
    run: Any, answers: AnswerServer, tmp_path: Path
) -> None:
    rows = [
        {"data_source": "think_toy-math", "prompt": [{"role": "user", "content": q}],
         "ability": "math", "reward_model": {"style": "rule", "ground_truth": truth},
         "extra_info": {"index": i}}
        for i, (q, truth) in enumerate(
            [("What is 1/2 + 1/4?", "0.75"), ("What is 2 + 2?", "4")] * 3
        )
    ]  # fmt: skip
    path = tmp_path / "toy.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    out = tmp_path / "bench"
    args = (
        "eval", "openai:m", "--policy-option", f"base_url=http://127.0.0.1:"
        f"{answers.httpd.server_address[1]}/v1", "--policy-option", "retries=0",
        "--bench", str(path), "--k", "4", "--out", str(out), "--json",
    )  # fmt: skip
    code, stdout, err = run(*args)
    assert code == 0, err
    (result,) = json.loads(stdout)["benchmarks"]
    assert (result["questions"], result["k"]) == (2, 4)
    assert result["avg_at_k"] == 0.5 and result["pass_at_k"] == 0.5
    assert answers.requests == 8
    assert len((out / "results.jsonl").read_text().splitlines()) == 8
    code, _, err = run(*args)
    assert code == 0, err
    assert answers.requests == 8, "a rerun asks nothing already scored"

"""The ``ray`` backend on a local Ray cluster of two nodes (``ray.cluster_utils.Cluster``: a
head and a second node on this machine), each node running the process backend.

The same jobs give the same results as the process backend alone, spread over both nodes'
actors; a node removed mid-batch has its jobs run again on the other, each answered once; a job
whose actor dies under it twice is answered failed instead of retried forever.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scaler.curriculum.metrics import read_metrics
from scaler.model import Limits, Program, content_hash
from scaler.perf.validate_pool import without_timings
from scaler.plugins import Plugins
from scaler.sandbox.jobs import Chain, Job
from scaler.sandbox.process import ProcessSandbox
from tests.conftest import OFFICIAL_POOL, ROOT, require_shared
from tests.sandbox import test_hostile as hostile
from tests.sandbox.conftest import assert_serves, job
from tests.synth.test_pipeline import PROBLEMS, RECORDINGS

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason="Ray is not installed (the ray tox env has it)")

from ray.cluster_utils import Cluster  # noqa: E402

from scaler.sandbox.ray_cluster import KILLED_ACTOR, RaySandbox  # noqa: E402

SQUARE = Program("python", "n = int(input())\nprint(n * n)\n")
ECHO_JSON = Program("python", 'import json\nprint(json.dumps({"stdin": input() + "\\n"}))\n')
SLOW = Program("python", "import time\nn = int(input())\ntime.sleep(0.3)\nprint(n + 1)\n")
LIMITS = Limits(cpu_s=2.0, wall_s=10.0, memory_mb=256)


@pytest.fixture
def nodes() -> Iterator[Any]:
    """Two nodes on this machine, one CPU each; this process not connected to them."""
    made = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    made.add_node(num_cpus=1)
    made.wait_for_nodes()
    try:
        yield made
    finally:
        made.shutdown()


@pytest.fixture
def cluster(nodes: Any) -> Iterator[Any]:
    """The two nodes, this process connected to them (RaySandbox uses that connection)."""
    ray.init(address=nodes.address, include_dashboard=False, log_to_driver=False)
    try:
        yield nodes
    finally:
        ray.shutdown()


def _sandbox() -> RaySandbox:
    return RaySandbox(plugins=Plugins.load(environ={}), backend="process", workers=2)


def _jobs(program: Program, count: int) -> list[Job]:
    return [Job(program, f"{n}\n", LIMITS) for n in range(count)]


def _plain(results: list[Any]) -> list[tuple[str, str]]:
    return [(r.status, r.stdout) for r in results]


def test_jobs_spread_over_both_nodes_give_the_process_backends_results(cluster: Any) -> None:
    jobs = _jobs(SQUARE, 40)
    with ProcessSandbox(workers=2) as local:
        expected = local.run_batch(jobs)
    with _sandbox() as sandbox:
        assert len({info.node for info in sandbox.describe()}) == 2
        assert {info.backend for info in sandbox.describe()} == {"process"}
        assert {info.reason for info in sandbox.describe()} == {"named"}
        assert sandbox.workers == 4
        assert _plain(sandbox.run_batch(jobs)) == _plain(expected)
        chains = [
            Chain((Job(ECHO_JSON, f"{n}\n", LIMITS), Job(SQUARE, "", LIMITS))) for n in range(9)
        ]
        answered = sandbox.run_chains(chains)
        assert [[r.stdout for r in results] for results in answered] == [
            [f'{{"stdin": "{n}\\n"}}\n', f"{n * n}\n"] for n in range(9)
        ]


def test_a_node_removed_mid_batch_has_its_jobs_run_on_the_other(cluster: Any) -> None:
    jobs = _jobs(SLOW, 16)
    with _sandbox() as sandbox:
        second = next(node for node in cluster.worker_nodes)
        results: list[Any] = []
        runner = threading.Thread(target=lambda: results.extend(sandbox.run_batch(jobs)))
        runner.start()
        time.sleep(1.0)  # both actors are running their parts
        cluster.remove_node(second)
        runner.join(timeout=120)
        assert not runner.is_alive()
        assert _plain(results) == [("ok", f"{n + 1}\n") for n in range(16)]
        assert len(sandbox.describe()) == 1


def test_a_job_whose_actor_dies_under_it_twice_is_answered_failed(cluster: Any) -> None:
    cluster.remove_node(next(node for node in cluster.worker_nodes))
    sleeper = Job(Program("python", "import time\ntime.sleep(5)\nprint(1)\n"), "", LIMITS)
    with _sandbox() as sandbox:
        killed: list[Any] = []

        def kill_each_actor() -> None:
            while len(killed) < 2:
                actors = [a.handle for a in sandbox.actors if a.handle not in killed]
                if actors:
                    time.sleep(1.5)  # the job is running in it
                    ray.kill(actors[0])
                    killed.append(actors[0])
                time.sleep(0.05)

        killer = threading.Thread(target=kill_each_actor)
        killer.start()
        (result,) = sandbox.run_batch([sleeper])
        killer.join(timeout=30)
        assert result.status == "runtime-error"
        assert KILLED_ACTOR.format(kills=2) in result.stderr
        # The sandbox goes on: new actors serve the next batch.
        assert _plain(sandbox.run_batch(_jobs(SQUARE, 3))) == [
            ("ok", "0\n"),
            ("ok", "1\n"),
            ("ok", "4\n"),
        ]


#: Hostile programs (tests/sandbox/test_hostile.py) in one batch through the ray backend, each
#: ending as it does on the node's own backend (the process backend as root).
HOSTILE: list[tuple[str, str, str, dict[str, float]]] = [
    ("python", hostile.FORK_BOMB, "timeout", {"cpu_s": 1.0, "wall_s": 3.0, "processes": 16}),
    ("cpp", hostile.CPP_FORK_BOMB, "timeout", {"cpu_s": 1.0, "wall_s": 3.0, "processes": 16}),
    ("python", "data = b'x' * (4 * 1024**3)", "memory", {"memory_mb": 256}),
    ("cpp", hostile.CPP_MEMORY_BOMB, "memory", {"memory_mb": 256}),
    ("python", "while True:\n    pass", "timeout", {"cpu_s": 1.0, "wall_s": 5.0}),
    ("python", "import time\ntime.sleep(10**6)", "timeout", {"wall_s": 1.0}),
    (
        "python",
        "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1024 * 1024)",
        "output-limit",
        {"output_bytes": 1024 * 1024},
    ),
    ("python", hostile.GARBLE, "ok", {}),
    ("python", "import os\nos.kill(os.getppid(), 9)", "runtime-error", {}),
    ("python", "import os\nos.kill(-1, 9)\nprint('still here')", "ok", {}),
    ("python", hostile.ESCAPE, "ok", {}),
    ("python", hostile.MAIN_THREAD_EXIT, "ok", {}),
]


@pytest.mark.skipif(
    not hostile.ISOLATED, reason="the process backend contains these programs only as root"
)
def test_hostile_programs_through_ray_end_as_on_the_nodes_own_backend(cluster: Any) -> None:
    jobs = [job(language, source, **limits) for language, source, _, limits in HOSTILE]
    with _sandbox() as sandbox:
        results = sandbox.run_batch(jobs)
        assert [r.status for r in results] == [status for _, _, status, _ in HOSTILE]
        assert sandbox.describe() and len(sandbox.describe()) == 2  # no actor was lost
        assert_serves(sandbox)


def test_scaler_validate_against_a_running_cluster_concludes_as_the_process_backend(
    nodes: Any, tmp_path: Path
) -> None:
    """``scaler validate`` on the official sample through ``--backend ray --ray-address``:
    the same cards (checks, reasons, figures, recalibrated tables) as the process backend
    alone, timings aside."""
    pool = require_shared(OFFICIAL_POOL)
    cards = {}
    for backend in ("process", "ray"):
        done = subprocess.run(
            [sys.executable, "-m", "scaler", "validate", str(pool), "--workers", "2",
             "--backend", backend, "--ray-address", nodes.address, "--json"],
            capture_output=True, text=True, cwd=tmp_path, timeout=900,
        )  # fmt: skip
        assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: some envs fail a check
        cards[backend] = json.loads(done.stdout)
    assert content_hash(without_timings(cards["ray"])) == content_hash(
        without_timings(cards["process"])
    )
    assert [card["ok"] for card in cards["ray"]].count(True) == 3


def test_a_command_joins_a_running_cluster_with_ray_address(
    nodes: Any, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --ray-address sets RAY_ADDRESS in this process: recorded here, so it is unset after.
    monkeypatch.setenv("RAY_ADDRESS", "unset-after-the-test")
    monkeypatch.delenv("RAY_ADDRESS")
    sample = ("envs", "sample", "gcd-lcm", "-l", "3", "-s", "5", "-n", "6", "--json")
    code, expected, err = run(*sample, "--backend", "process")
    assert code == 0, err
    code, out, err = run("-v", *sample, "--backend", "ray", "--ray-address", nodes.address)
    assert code == 0, err
    assert out == expected
    # one actor on each node, each on its node's auto backend, saying why
    assert (
        err.count("sandbox actor") == 2 and err.count("reason=") == 2 and not ray.is_initialized()
    )


def test_synth_against_a_running_cluster_makes_the_pool_one_machine_makes(
    nodes: Any, tmp_path: Path
) -> None:
    """The fixtures' synthesis (recorded LLM answers) through ``--backend ray --ray-address``,
    as docs/sandbox.md says to run it, against the same on the process backend alone."""
    pools = {}
    for backend in ("process", "ray"):
        out = tmp_path / backend / "pool.jsonl"
        done = subprocess.run(
            [sys.executable, "-m", "scaler", "synth", str(PROBLEMS), "-o", str(out),
             "--llm", f"replay:{RECORDINGS}", "--trials", "20", "--workers", "3",
             "--backend", backend, "--ray-address", nodes.address, "--json"],
            capture_output=True, text=True, cwd=ROOT, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        pools[backend] = out.read_bytes()
    assert pools["ray"] == pools["process"] and pools["ray"]


def test_a_run_makes_its_curriculums_instances_on_the_cluster(
    nodes: Any, run: Any, tmp_path: Path
) -> None:
    """``[sandbox] name = "ray"`` in a run config: the curriculum's instances come from the
    cluster, and the run (simulated learner) is step for step the one the process backend gives."""
    steps = {}
    for name, table in (
        ("process", 'name = "process"'),
        ("ray", f'name = "ray"\naddress = "{nodes.address}"\nbackend = "process"'),
    ):
        config = tmp_path / f"{name}.toml"
        config.write_text(
            f'[run]\nsteps = 3\nbatch_size = 4\n\n[pool]\nenvs = ["gcd-lcm", "lis-length"]\n\n'
            f"[sandbox]\n{table}\n",
            encoding="utf-8",
        )
        code, _, err = run("run", str(config), "--out", str(tmp_path / name))
        assert code == 0, err
        steps[name] = [
            {k: v for k, v in record.items() if not k.endswith("_s")}
            for record in read_metrics(tmp_path / name / "metrics.jsonl")
        ]
    assert steps["ray"] == steps["process"] and len(steps["ray"]) == 3
    assert not ray.is_initialized()

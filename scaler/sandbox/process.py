"""The process backend: sandbox runners as warm worker processes on this machine.

The process backend is NOT a security boundary against hostile code. It contains accidents
(runaway loops, memory hogs, output floods, stray background processes, network use when root)
in programs that are merely untrusted; a program written to attack the host can read what the
host leaves readable, use the kernel's attack surface, and, without root, tamper with its
runner. Use the docker backend for code you would not run on your own machine. The runner's
module docstring lists what the process backend cannot stop.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import os
import pwd
import select
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from scaler.errors import ConfigError
from scaler.sandbox import runner
from scaler.sandbox.cpus import check_pin, worker_cpus
from scaler.sandbox.jobs import Chain, JobResult
from scaler.sandbox.pool import (
    ChainOutcome,
    SandboxClosed,
    WorkerLost,
    WorkerPool,
    batch_request,
    chain_budget,
    check_released,
    check_run_answer,
    is_ready,
    lost_job,
    next_line,
    parse_message,
    release_request,
)

#: Jobs of worker i run as a uid (and gid) from this range that no account and no other sandbox
#: on the host uses, so that killing "every process of the uid" after a job is exact.
FIRST_UID = 61000
UID_COUNT = 1000
UID_LOCK_DIR = Path("/run/scaler-sandbox")
READY_TIMEOUT_S = 60.0
#: How long past a job's own limits (and a compile) the host waits for the runner's answer.
ANSWER_GRACE_S = 30.0
STOP_GRACE_S = 5.0
READ_CHUNK = 1 << 20


def default_cache_dir() -> Path:
    """``$SCALER_CACHE_DIR/sandbox``, else ``$XDG_CACHE_HOME/scaler/sandbox``, else
    ``~/.cache/scaler/sandbox``."""
    if scaler_cache := os.environ.get("SCALER_CACHE_DIR"):
        return Path(scaler_cache) / "sandbox"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "scaler" / "sandbox"


class ProcessSandbox(WorkerPool):
    """Runs jobs on N warm runner processes (``runner.py``), one job per runner at a time.

    Each worker is a runner subprocess owned by one thread that feeds it jobs from a shared
    queue, so a batch runs in parallel across the workers and any number of threads may submit
    at once. When root, worker i runs its jobs as a uid of its own (and the runners cut jobs off
    the network); otherwise jobs run as the current user, with the network. A worker that dies
    or garbles its output mid-job gives that job a "runtime-error" result saying so and is
    restarted. Not a security boundary against hostile code: see the module docstring.
    """

    name = "process"

    def __init__(
        self,
        workers: int | None = None,
        cache_dir: str | Path | None = None,
        run_as_uid: bool | None = None,
        keep_warm: bool = False,
        pin_cpus: bool = True,
    ) -> None:
        """``keep_warm``: runners keep their warm children between batches (for a producer
        that sends batch after batch, such as a training run's curriculum). ``pin_cpus``: with one
        worker per usable CPU, each runner and its jobs stay on a CPU of their own
        (:mod:`scaler.sandbox.cpus` says why)."""
        count = (os.cpu_count() or 1) if workers is None else workers
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ConfigError(f"must be a whole number >= 1, got {count!r}", field="workers")
        is_root = os.geteuid() == 0
        run_as_uid = is_root if run_as_uid is None else run_as_uid
        if not isinstance(run_as_uid, bool):
            raise ConfigError(f"must be true or false, got {run_as_uid!r}", field="run_as_uid")
        if run_as_uid and not is_root:
            raise ConfigError("needs root", field="run_as_uid")
        check_pin(pin_cpus)
        super().__init__(keep_warm)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._uid_claims: list[tuple[int, int]] = []
        self._work_root = _make_work_root(_scratch_dir())
        try:
            self._start(count, run_as_uid, pin_cpus)
        except BaseException:
            self.close()
            raise

    @property
    def job_uids(self) -> tuple[int, ...]:
        """The uids this sandbox's jobs run as (none when they run as the current user). Other
        sandboxes on the host run theirs as other uids of the same range, so whoever checks
        what a job left behind must look at these, not at the range."""
        return tuple(uid for uid, _ in self._uid_claims)

    def _start(self, count: int, run_as_uid: bool, pin_cpus: bool) -> None:
        self._work_root.chmod(0o711)  # job uids must traverse it to reach their own dirs
        if run_as_uid:
            self._uid_claims = _claim_uids(count)
        command = [_runner_python(run_as_uid), runner.__file__, "--cache-dir", str(self.cache_dir)]
        workers = []
        cpus = worker_cpus(count) if pin_cpus else [None] * count
        for i, cpu in enumerate(cpus):
            argv = [*command, "--work-dir", str(self._work_root / f"w{i}")]
            if run_as_uid:
                uid = self._uid_claims[i][0]
                argv += ["--uid", str(uid), "--gid", str(uid)]
            workers.append(_Worker(argv, self._closing, cpu))
        self._start_workers(workers, "scaler-sandbox")

    def _release(self) -> None:
        for _, fd in self._uid_claims:
            os.close(fd)
        shutil.rmtree(self._work_root, ignore_errors=True)


class _Worker:
    """One runner subprocess, fed one job at a time by the thread that owns it."""

    def __init__(self, argv: list[str], closing: threading.Event, cpu: int | None) -> None:
        self.argv = argv
        #: The CPU this runner, and every process it starts, is held to (None: any).
        self.cpu = cpu
        self.work_dir = Path(argv[argv.index("--work-dir") + 1])
        self.closing = closing
        self.proc: subprocess.Popen[bytes] | None = None
        self._buffer = bytearray()

    def start(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)  # whatever a dead predecessor left
        self._buffer.clear()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_runner_env(),
            start_new_session=True,  # a terminal's Ctrl-C is for the host, which stops runners
        )
        if self.cpu is not None:
            # Before the first request, so every warm child and job inherits it. Only speed
            # depends on it: a runner that has already died is reported by the read below.
            with contextlib.suppress(OSError):
                os.sched_setaffinity(self.proc.pid, {self.cpu})
        try:
            hello = parse_message(self._read_line(time.monotonic() + READY_TIMEOUT_S))
        except WorkerLost as exc:
            self.stop()
            raise RuntimeError(f"sandbox runner did not start: {exc}") from None
        if not is_ready(hello):
            self.stop()
            raise RuntimeError(f"sandbox runner said {hello!r} instead of being ready")

    def run_chains(
        self, chains: Sequence[Chain], batch_id: int, keep_warm: bool, retried: Sequence[bool]
    ) -> list[ChainOutcome]:
        """One request for the chunk; one answer per chain, read as each ends. A runner lost
        mid-chunk fails the chain it was running; the chains after it go back to the pool."""
        if self.proc is None or self.proc.poll() is not None:
            self.restart()
        outcomes: list[ChainOutcome] = [None] * len(chains)
        started = time.monotonic()
        try:
            self._send(batch_request(chains, batch_id, keep_warm))
            for index, chain in enumerate(chains):
                line = self._read_line(started + chain_budget(chain, ANSWER_GRACE_S))
                answer = check_run_answer(parse_message(line), batch_id, index)
                started = time.monotonic()
                if "skipped" in answer:
                    break
                outcomes[index] = [JobResult.from_wire(r) for r in answer["results"]]
        except WorkerLost as exc:
            if self.closing.is_set():
                raise SandboxClosed("ProcessSandbox closed while the job ran") from exc
            self.restart()
            outcomes[outcomes.index(None)] = [lost_job(exc, started)]
            return outcomes
        if self._buffer:  # more lines than answers: the stream is not to be trusted
            self.restart()
        return outcomes

    def release(self, request_id: int) -> None:
        try:
            self._send(release_request(request_id))
            line = self._read_line(time.monotonic() + READY_TIMEOUT_S)
            check_released(parse_message(line), request_id)
        except WorkerLost:
            self.restart()  # a fresh runner has no warm children

    def restart(self) -> None:
        self.stop()
        self.start()

    def interrupt(self) -> None:
        """From another thread: makes the runner end its job (cleaning up after it) and exit."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """EOF and SIGTERM (the runner kills its job and sweeps on the way out), then SIGKILL."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        assert proc.stdin is not None and proc.stdout is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    def _send(self, request: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(request)
            self.proc.stdin.flush()
        except OSError as exc:
            raise WorkerLost(f"could not send the job: {exc}") from None

    def _read_line(self, deadline: float) -> bytes:
        """One line from the runner's stdout, which must come by ``deadline``."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)

        def receive() -> None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise WorkerLost("no answer in time")
            chunk = os.read(fd, READ_CHUNK)
            if not chunk:
                raise WorkerLost(f"its output ended (exit status {self._exit_status()})")
            self._buffer += chunk

        return next_line(self._buffer, receive)

    def _exit_status(self) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(1.0)
        except subprocess.TimeoutExpired:
            return None


def _runner_env() -> dict[str, str]:
    """Only what a runner needs: the host's environment (tokens, keys) must not reach jobs, and
    a fixed hash seed makes str hashing, hence set order, the same in every worker and run."""
    return {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}


def _scratch_dir() -> str:
    """Job dirs go to /dev/shm where there is one: making and removing a dir per job on tmpfs
    costs a small fraction of what it costs on a journaled disk."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK | os.X_OK) else tempfile.gettempdir()


WORK_ROOT_PREFIX = "scaler-sandbox-"


def _make_work_root(scratch: str) -> Path:
    """A fresh parent for the runners' job dirs, named after this process. Those of sandboxes
    whose process is gone (killed outright: nothing removed them) are removed first."""
    for stale in Path(scratch).glob(f"{WORK_ROOT_PREFIX}*-*"):
        pid = stale.name.removeprefix(WORK_ROOT_PREFIX).split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{WORK_ROOT_PREFIX}{os.getpid()}-", dir=scratch))


def _open_to_others(path: Path) -> bool:
    """Whether any uid may read path (and reach it through every parent directory)."""
    if not path.stat().st_mode & stat.S_IROTH:
        return False
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents))


def _runner_python(run_as_uid: bool) -> str:
    """The interpreter for the runners. Python jobs run inside it (forked), so with a dedicated
    uid its standard library must be readable by that uid; a pyenv or virtualenv Python under
    /root (mode 700) is not, and then the system's python3 serves instead."""
    if not run_as_uid or _open_to_others(Path(sysconfig.get_paths()["stdlib"])):
        return sys.executable
    system = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if system is None:
        raise RuntimeError(
            f"jobs run as a dedicated uid cannot read {sys.executable}'s standard library and "
            "there is no system python3: install one, or pass run_as_uid=False"
        )
    return system


def _unassigned(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        try:
            grp.getgrgid(uid)
        except KeyError:
            return True
    return False


def _uids_with_processes() -> set[int]:
    """The real uids of every process on the host, zombies included."""
    uids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with (
            contextlib.suppress(OSError, ValueError, IndexError),
            open(f"/proc/{pid}/status", "rb") as status,
        ):
            for line in status:
                if line.startswith(b"Uid:"):
                    uids.add(int(line.split()[1]))
                    break
    return uids


def _claim_uids(count: int) -> list[tuple[int, int]]:
    """Claims count (uid, lock fd) pairs: uids that no account uses, no other sandbox on this
    host holds, and no process has. A claim is an flock, released when the sandbox closes or its
    process dies; a runner killed outright leaves its jobs to init, and until init reaps them
    they count against that uid's process limit, so the uid waits until they are gone."""
    UID_LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    claims: list[tuple[int, int]] = []
    busy = _uids_with_processes()
    for uid in range(FIRST_UID, FIRST_UID + UID_COUNT):
        if uid in busy or not _unassigned(uid):
            continue
        fd = os.open(UID_LOCK_DIR / f"{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        claims.append((uid, fd))
        if len(claims) == count:
            return claims
    for _, fd in claims:
        os.close(fd)
    raise RuntimeError(f"no {count} free uids in {FIRST_UID}-{FIRST_UID + UID_COUNT - 1}")

"""The docker backend: sandbox runners in warm, hardened containers.

Each worker is one container and one runner in it. The container's main process is ``cat``
under docker's init, reading a "lifeline": a stdin attach that this process holds open. When
this process goes away, however it dies (SIGKILL included), the engine closes that stdin, cat
and the init exit, and the engine removes the container (``auto_remove``), so a crash leaves
nothing running. The runner is started with ``docker exec`` and spoken to over that exec's
hijacked attach stream (stdin in, stdout/stderr multiplexed out): it is not the init's child and
not on the init's stdio, so a job (which runs under the same uid) cannot reach the protocol
through ``/proc/1/fd``, and ``--undumpable`` keeps it out of the runner's own fds and memory.
With an engine on this machine the protocol itself bypasses the engine: the runner's stdin and
stdout are two FIFOs in a private host directory mounted into the container, opened before the
runner starts and unlinked as soon as it is ready, so that no job finds them (the exec's stream
then carries only the runner's stderr).

Every container: no network, read-only root, tmpfs at /tmp (the only place a non-root user can
write on engine 20.10) and /dev/shm, both emptied after each job, uid 65534, no capabilities,
no-new-privileges, pids/memory (swap included)/CPU limits, docker's init, no log driver, and the
labels that let a later run remove what a crashed one left. Per-job limits are the runner's;
the host keeps its own deadline on top. C++ builds live in a host directory the containers see
read-only: a runner compiles a missing program into memory, runs it from there, and hands the
binary back, which the host publishes for every container (and every later run) to use.
docs/sandbox.md ("The Docker backend") says why, and what each choice costs.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import os
import select
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, cast

import attrs

from scaler.errors import ConfigError, ScalerError
from scaler.logs import get_logger
from scaler.model import Program
from scaler.sandbox import runner
from scaler.sandbox.cpus import check_pin, usable_cpus, worker_cpus
from scaler.sandbox.image import (
    LABEL_RUNNER,
    RUNNER_PATH,
    default_tag,
    docker_client,
    image_status,
    runner_sha256,
)
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
from scaler.sandbox.process import default_cache_dir

log = get_logger(__name__)

#: Every container this backend starts carries this label, valued with its sandbox's id.
LABEL = "org.scaler.sandbox"
#: Who started the container: "boot id/pid namespace/pid/start time" of the host process.
LABEL_OWNER = "org.scaler.sandbox.owner"
USER = "65534:65534"
#: Where the host's build cache appears in the containers (read-only).
CACHE_MOUNT = "/cache"
#: The runner's work dir, inside the /tmp tmpfs.
WORK_DIR = "/tmp/jobs"
SCRUB_DIRS = ("/tmp", "/dev/shm")
OOM_EVENTS = {"1": "/sys/fs/cgroup/memory/memory.oom_control", "2": "/sys/fs/cgroup/memory.events"}
#: The file counting a container's tasks: what a run left behind shows there, cheaply.
PIDS_CURRENT = {"1": "/sys/fs/cgroup/pids/pids.current", "2": "/sys/fs/cgroup/pids.current"}
RUNNER_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "TMPDIR": "/tmp",
}
#: Runs this host's runner.py, given as the next argument, as if it were RUNNER_PATH: for an
#: image whose baked-in runner is another version, without writing into the container.
BOOTSTRAP = (
    f"import sys; sys.argv[0] = __file__ = {RUNNER_PATH!r}; "
    f"sys.path[0] = {os.path.dirname(RUNNER_PATH)!r}; "
    "exec(compile(sys.argv.pop(1), __file__, 'exec'))"
)
#: Per container, by default: one job at a time runs in it; the /tmp tmpfs counts as memory.
MEMORY_MB = 2048
CPUS = 1.0
PIDS = 128
#: Jobs a container serves before it is replaced. A replacement costs 0.5-1 s of a worker and
#: its warm children; with a batched run at 0.5-1 ms, 20,000 jobs amortise that to a few
#: percent. What a job leaves that scrubbing does not reach retires the container at once.
JOBS_PER_CONTAINER = 20_000
TMPFS_MB = 256
READY_TIMEOUT_S = 60.0
#: How long past a job's own limits (and a compile) the host waits for the runner's answer.
ANSWER_GRACE_S = 10.0
API_TIMEOUT_S = 60
REMOVE_TIMEOUT_S = 30.0
READ_CHUNK = 1 << 20
RUNNER_STDERR_KEPT = 4096
FRAME_HEADER = struct.Struct(">BxxxL")
#: The SDK's base URL for an engine reached over a unix socket.
LOCAL_ENGINE = "http+docker://localhost"
#: How the host speaks to a runner: "fifo" (two FIFOs mounted into the container, past the
#: engine), "exec" (the exec's attach stream, through the engine), "auto" (fifo when the
#: engine runs on this machine, else exec).
TRANSPORTS = ("auto", "fifo", "exec")
#: Where a container sees its directory of protocol FIFOs (empty once its runner is ready).
PROTOCOL_MOUNT = "/protocol"
FIFO_IN, FIFO_OUT = "requests", "answers"
#: A sandbox's directory of FIFO directories: tempdir/PREFIX*, holding OWNER_FILE.
FIFO_ROOT_PREFIX = "scaler-docker-"
#: In a sandbox's FIFO directory: the owner token of the process that made it.
OWNER_FILE = "owner"
STDOUT, STDERR = 1, 2


class DockerSandbox(WorkerPool):
    """Runs jobs on N warm, hardened containers, each hosting one runner, one job at a time.

    The same surface as ProcessSandbox: ``submit(job) -> Future``, ``run_batch(jobs)`` (results
    in order), ``workers``, ``close()`` and a context manager; a thread per container takes jobs
    from a shared queue. A container whose runner dies, goes silent past the job's limits, or
    garbles the protocol fails that job ("runtime-error", or "memory" when the kernel's OOM
    killer ran in it) and is replaced, as is one whose runner asks to be retired (after an OOM
    kill, or a job it could not clean up after), and every one after ``jobs_per_container``
    jobs. On close, at exit and on SIGTERM/SIGINT every container of this sandbox is removed.
    """

    name = "docker"

    def __init__(
        self,
        workers: int | None = None,
        image: str | None = None,
        *,
        jobs_per_container: int = JOBS_PER_CONTAINER,
        memory_mb: int = MEMORY_MB,
        cpus: float = CPUS,
        pids: int = PIDS,
        tmpfs_mb: int = TMPFS_MB,
        cache_dir: str | Path | None = None,
        runner_path: str | None = RUNNER_PATH,
        keep_warm: bool = False,
        pin_cpus: bool = True,
        transport: str = "auto",
    ) -> None:
        """``image``: default ``scaler-sandbox:<version>``. ``memory_mb``, ``cpus``, ``pids`` and
        ``tmpfs_mb`` bound each container (one job at a time runs in it; the /tmp tmpfs counts
        toward its memory). ``cache_dir``: where C++ builds are kept on this host (default: the
        user's sandbox cache, per image). ``runner_path``: the runner inside the image; used when
        the image's runner is this scaler's, else (or when None) this scaler's runner.py is
        passed on the exec's command line. ``keep_warm``: runners keep their warm children
        between batches (for a producer that sends batch after batch). ``pin_cpus``: with one
        worker per usable CPU, each container gets a CPU of its own (its cpuset), when the
        engine runs on this machine's kernel and ``cpus`` is at most one
        (:mod:`scaler.sandbox.cpus`). ``transport``: how the host speaks to the runners
        (TRANSPORTS; docs/sandbox.md, "How the runner runs")."""
        count = (os.cpu_count() or 1) if workers is None else workers
        for field, value in (("workers", count), ("jobs_per_container", jobs_per_container)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"must be a whole number >= 1, got {value!r}", field=field)
        check_pin(pin_cpus)
        if transport not in TRANSPORTS:
            raise ConfigError(
                f"must be one of {', '.join(TRANSPORTS)}, got {transport!r}", field="transport"
            )
        super().__init__(keep_warm)
        self._fifo_root: Path | None = None
        self.jobs_per_container = jobs_per_container
        #: The value of LABEL on every container of this sandbox.
        self.id = uuid.uuid4().hex[:16]
        client = docker_client()
        try:
            self.image = image or default_tag()
            status = image_status(client, self.image)
            if not status.exists:
                raise ScalerError(
                    f"the sandbox image {self.image} is not built: run `scaler sandbox build-image`"
                )
            image_id = client.images.get(self.image).id.split(":")[-1]
            self.cache_dir = (
                Path(cache_dir)
                if cache_dir is not None
                else default_cache_dir() / f"docker-{image_id[:12]}"
            )
            self._builds = _Builds(self.cache_dir)
            info = client.info()
            cgroup_version = str(info.get("CgroupVersion", "1"))
            pinned = _engine_cpus(client.api.base_url, info) if pin_cpus and cpus <= 1 else []
            if transport == "fifo" or (
                transport == "auto" and _engine_here(client.api.base_url, info)
            ):
                self._fifo_root = _make_fifo_root()
            oom_events = OOM_EVENTS.get(cgroup_version)
            self._spec = _Spec(
                image=self.image,
                labels={LABEL: self.id, LABEL_OWNER: owner_token()},
                memory_mb=memory_mb,
                cpus=cpus,
                pids=pids,
                tmpfs_mb=tmpfs_mb,
                cache_dir=str(self.cache_dir),
                oom_events=oom_events,
                runner_command=_runner_command(
                    runner_path if status.labels.get(LABEL_RUNNER) == runner_sha256() else None,
                    cgroup_version,
                    pids,
                ),
                api_version=client.api.api_version,
                fifo_root=None if self._fifo_root is None else str(self._fifo_root),
            )
            remove_leftovers(client.api)
            remove_stale_fifo_roots()
        finally:
            client.close()
        _LIVE.add(self)
        _install_signal_handlers()
        try:
            self._start_workers(
                [
                    _Container(self._spec, self._closing, self._builds, cpu)
                    for cpu in worker_cpus(count, pinned)
                ],
                "scaler-docker",
            )
        except BaseException:
            self.close()
            raise

    def _before_job(self, worker: _Container) -> None:
        if worker.jobs_done >= self.jobs_per_container:
            worker.retire("recycled")

    def _release(self) -> None:
        _LIVE.discard(self)
        if self._fifo_root is not None:
            shutil.rmtree(self._fifo_root, ignore_errors=True)
        with contextlib.closing(_api(self._spec.api_version)) as api:
            for found in api.containers(all=True, filters={"label": f"{LABEL}={self.id}"}):
                _remove(api, found["Id"])  # what a failed start may have left

    def _cut_lifelines(self) -> None:
        """From a signal handler (no locks): the engine then removes every container of this
        sandbox, and the sandbox takes no more jobs (close() still joins its threads)."""
        self._closing.set()
        for worker in self._workers:
            worker.interrupt(lifeline=True)


@attrs.frozen
class _Spec:
    """How every container of one sandbox is made, and how its runner is started."""

    image: str
    labels: dict[str, str]
    memory_mb: int
    cpus: float
    pids: int
    tmpfs_mb: int
    cache_dir: str
    #: The cgroup file counting OOM kills, as the containers see it (None: unknown).
    oom_events: str | None
    runner_command: list[str]
    api_version: str
    #: Where each container's directory of protocol FIFOs is made (None: the exec's stream).
    fifo_root: str | None = None

    def create(
        self, api: Any, command: list[str], cpu: int | None, fifos: str | None = None
    ) -> str:
        """Creates (does not start) a hardened container, held to ``cpu`` unless it is None,
        with the directory ``fifos`` at PROTOCOL_MOUNT unless it is None; returns its id."""
        binds = {self.cache_dir: {"bind": CACHE_MOUNT, "mode": "ro"}}
        if fifos is not None:
            binds[fifos] = {"bind": PROTOCOL_MOUNT, "mode": "ro"}
        return create_hardened(
            api,
            self.image,
            command,
            labels=self.labels,
            memory_mb=self.memory_mb,
            cpus=self.cpus,
            pids=self.pids,
            tmpfs_mb=self.tmpfs_mb,
            binds=binds,
            cpuset=None if cpu is None else str(cpu),
        )


def create_hardened(
    api: Any,
    image: str,
    command: list[str],
    *,
    labels: dict[str, str],
    memory_mb: int,
    cpus: float,
    pids: int,
    tmpfs_mb: int,
    binds: dict[str, dict[str, str]] | None = None,
    auto_remove: bool = True,
    cpuset: str | None = None,
) -> str:
    """A container as the sandbox makes them (also what the naive-docker baseline runs):
    no network, read-only root, writable (noexec) tmpfs only at /tmp, uid 65534, no
    capabilities, no-new-privileges, pids, memory (= memory + swap) and CPU limits, docker's
    init, no logs kept; ``cpuset``: the CPUs it may run on (default: any). Its stdin is open,
    and closes when the first client attached to it goes away (StdinOnce)."""
    host_config = api.create_host_config(
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": f"rw,noexec,nosuid,nodev,size={tmpfs_mb}m"},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        pids_limit=pids,
        mem_limit=f"{memory_mb}m",
        memswap_limit=f"{memory_mb}m",
        nano_cpus=int(cpus * 1e9),
        cpuset_cpus=cpuset,
        init=True,
        log_config={"type": "none"},
        auto_remove=auto_remove,
        binds=binds or {},
    )
    created = api.create_container(
        image,
        command,
        user=USER,
        working_dir="/tmp",
        environment={"TMPDIR": "/tmp"},
        labels=labels,
        stdin_open=True,
        detach=False,  # what makes the SDK ask for StdinOnce
        host_config=host_config,
    )
    return cast(str, created["Id"])


class _Container:
    """One container and the runner exec'd in it, fed one job at a time by the thread owning it."""

    def __init__(
        self, spec: _Spec, closing: threading.Event, builds: _Builds, cpu: int | None
    ) -> None:
        self.spec = spec
        self.closing = closing
        self.builds = builds
        #: The CPU this container (every container that replaces it too) is held to.
        self.cpu = cpu
        self.api: Any = None
        self.id: str | None = None
        self.lifeline: AttachStream | None = None
        self.stream: AttachStream | FifoStream | None = None
        #: This container's directory of protocol FIFOs on the host, until its runner is ready.
        self.fifos: str | None = None
        self.jobs_done = 0
        self.retired: str | None = None

    def start(self) -> None:
        """Creates the container, attaches the lifeline, starts it and its runner."""
        import docker.errors

        self.api = _api(self.spec.api_version)
        self.jobs_done = 0
        self.retired = None
        deadline = time.monotonic() + READY_TIMEOUT_S
        try:
            if self.spec.fifo_root is not None:
                self.fifos = _make_fifos(self.spec.fifo_root)
            self.id = self.spec.create(self.api, ["cat"], self.cpu, self.fifos)
            # Attached before the start: from then on, this process going away removes it.
            self.lifeline = AttachStream(self.api.attach_socket(self.id, {"stdin": 1, "stream": 1}))
            self.api.start(self.id)
            command = self.spec.runner_command
            if self.fifos is not None:
                redirect = f"<{PROTOCOL_MOUNT}/{FIFO_IN} >{PROTOCOL_MOUNT}/{FIFO_OUT}"
                command = ["sh", "-c", f'exec "$0" "$@" {redirect}', *command]
            exec_id = self.api.exec_create(
                self.id,
                command,
                stdin=self.fifos is None,
                environment=RUNNER_ENV,
                workdir="/tmp",
            )["Id"]
            self.stream = AttachStream(self.api.exec_start(exec_id, socket=True))
            if self.fifos is not None:
                self.stream = FifoStream.connect(self.fifos, self.stream, deadline)
            hello = parse_message(self.stream.read_line(deadline))
        except (docker.errors.DockerException, WorkerLost, OSError) as exc:
            detail = self.stream.stderr_tail() if self.stream else ""
            raise ScalerError(
                f"could not start a sandbox container from {self.spec.image}: {exc}"
                + (f"\n{detail}" if detail else "")
            ) from None
        finally:
            self._remove_fifos()  # the runner holds them open: from now on no job finds them
        if not is_ready(hello):
            raise ScalerError(f"the sandbox runner in {self.spec.image} said {hello!r}")

    def _remove_fifos(self) -> None:
        fifos, self.fifos = self.fifos, None
        if fifos is not None:
            shutil.rmtree(fifos, ignore_errors=True)

    def run_chains(
        self, chains: Sequence[Chain], batch_id: int, keep_warm: bool, retried: Sequence[bool]
    ) -> list[ChainOutcome]:
        """One request for the chunk; one answer per chain, read as each ends. When the runner
        is lost, the chain it was running fails, or goes back to the pool once when its stream
        simply ended (a job that killed the container's init takes the runner down a moment
        after its own answer; jobs are pure, so running one twice is safe); the chains after
        it go back to the pool. A runner that asks to be retired has answered its run and
        skipped the rest, which go back to the pool too."""
        if self.closing.is_set():
            raise SandboxClosed("DockerSandbox is closing")
        if self.stream is None or self.retired:
            log.debug("replacing a sandbox container", container=self.id, reason=self.retired)
            self.stop()
            self.start()
        outcomes: list[ChainOutcome] = [None] * len(chains)
        started = time.monotonic()
        index = 0
        try:
            with self.builds.compiling([job.program for c in chains for job in c.jobs]):
                assert self.stream is not None
                request = batch_request(chains, batch_id, keep_warm)
                self.stream.send(request, started + chain_budget(chains[0], ANSWER_GRACE_S))
                for index, chain in enumerate(chains):
                    line = self.stream.read_line(started + chain_budget(chain, ANSWER_GRACE_S))
                    answer = check_run_answer(parse_message(line), batch_id, index)
                    started = time.monotonic()
                    if "skipped" in answer:
                        break
                    self.jobs_done += len(answer["results"])
                    outcomes[index] = self._results(chain, answer)
        except WorkerLost as exc:
            if self.closing.is_set():
                raise SandboxClosed("DockerSandbox closed while the job ran") from exc
            oom = self._oom_killed()
            detail = self.stream.stderr_tail() if self.stream else ""
            self.retire("the runner was lost")
            if retried[index] or oom or not isinstance(exc, _StreamEnded):
                outcomes[index] = [
                    lost_job(
                        exc,
                        started,
                        status="memory" if oom else "runtime-error",
                        detail=(" (the kernel's OOM killer ran in its container)" if oom else "")
                        + (f"\n[runner stderr]\n{detail}" if detail else ""),
                    )
                ]
            return outcomes
        if self.stream.buffered():  # more lines than answers: not to be trusted
            self.retire("garbled output")
        return outcomes

    def _results(self, chain: Chain, answer: dict[str, Any]) -> list[JobResult]:
        """A chain's results; builds that came with them are published, and a run after which
        the runner asked to be retired retires the container."""
        results = []
        for job, wire in zip(chain.jobs, answer["results"], strict=False):
            if "build" in wire and job.program.language == "cpp":
                self.builds.publish(job.program.hash, wire["build"])
            results.append(JobResult.from_wire(wire))
        if answer.get("retire"):
            self.retire(str(answer["retire"]))
        return results

    def release(self, request_id: int) -> None:
        if self.stream is None:
            return
        try:
            self.stream.send(release_request(request_id), time.monotonic() + READY_TIMEOUT_S)
            line = self.stream.read_line(time.monotonic() + READY_TIMEOUT_S)
            check_released(parse_message(line), request_id)
        except WorkerLost:
            self.retire("the runner was lost")

    def retire(self, reason: str) -> None:
        """Marks the container for replacement before its next job."""
        self.retired = reason

    def interrupt(self, lifeline: bool = False) -> None:
        """From another thread (or a signal handler): ends the wait for an answer; with
        ``lifeline``, also makes the engine stop and remove the container."""
        for stream in (self.stream, self.lifeline if lifeline else None):
            if stream is not None:
                stream.shutdown()

    def stop(self) -> None:
        """Removes the container (its runner and anything left in it die with it)."""
        container, self.id = self.id, None
        for stream in (self.stream, self.lifeline):
            if stream is not None:
                stream.close()
        self.stream = self.lifeline = None
        self._remove_fifos()
        if self.api is None:
            return
        if container is not None:
            _remove(self.api, container)
        self.api.close()
        self.api = None

    def _oom_killed(self) -> bool:
        """Whether the kernel's OOM killer ran in the container. A container is retired after
        any OOM kill, so a count above zero belongs to the job that was running."""
        if self.id is None or self.spec.oom_events is None:
            return False
        try:
            exec_id = self.api.exec_create(self.id, ["cat", self.spec.oom_events])["Id"]
            output = self.api.exec_start(exec_id).decode("ascii", "replace")
        except Exception:  # the container is gone or cannot start a process: no way to tell
            return False
        counts = [line.split()[1] for line in output.splitlines() if line.startswith("oom_kill ")]
        return bool(counts) and counts[0] != "0"


class _Builds:
    """The host's C++ build cache, which every container sees read-only at CACHE_MOUNT.

    A runner compiles a program missing from it into memory and hands the binary back; the
    host publishes it here. While one container compiles a program, the others wait for it
    rather than compile it too.
    """

    def __init__(self, root: Path) -> None:
        self.dir = root / runner.CPP_CACHE
        self.dir.mkdir(parents=True, exist_ok=True)
        for path in (root, self.dir):
            path.chmod(0o755)  # the containers' uid reads it through the mount
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def known(self, program_hash: str) -> bool:
        return any((self.dir / f"{program_hash}{end}").exists() for end in ("", ".error"))

    @contextlib.contextmanager
    def compiling(self, programs: Sequence[Program]) -> Iterator[None]:
        """Held around a request whose programs may get compiled: one compile per program.
        The locks are taken in the order of the programs' hashes, so two requests wait for
        each other rather than deadlock."""
        unknown = sorted(
            {p.hash for p in programs if p.language == "cpp" and not self.known(p.hash)}
        )
        with contextlib.ExitStack() as held:
            for program_hash in unknown:
                with self._guard:
                    lock = self._locks.setdefault(program_hash, threading.Lock())
                held.enter_context(lock)
                held.callback(self._forget, program_hash, lock)
            yield

    def _forget(self, program_hash: str, lock: threading.Lock) -> None:
        with self._guard:
            if self._locks.get(program_hash) is lock:
                del self._locks[program_hash]

    def publish(self, program_hash: str, build: Any) -> None:
        if not isinstance(build, dict) or not runner.HASH_RE.fullmatch(program_hash):
            return
        if isinstance(build.get("binary"), str):
            runner.publish(str(self.dir / program_hash), base64.b64decode(build["binary"]), 0o755)
        elif isinstance(build.get("error"), str):
            runner.publish(str(self.dir / f"{program_hash}.error"), build["error"].encode(), 0o644)


class _StreamEnded(WorkerLost):
    """The runner's stream closed: the runner, or its whole container, is gone."""


class AttachStream:
    """A hijacked attach connection: lines out of the multiplexed stdout, bytes into stdin."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.raw: socket.socket = getattr(sock, "_sock", sock)
        # Bytes the SDK's HTTP parser read past the response headers belong to the stream.
        self.frames = bytearray(_buffered_past_headers(sock, self.raw))
        self.out = bytearray()
        self.err = bytearray()
        self._sort_frames()

    def send(self, data: bytes, deadline: float) -> None:
        try:
            self.raw.settimeout(max(0.001, deadline - time.monotonic()))
            self.raw.sendall(data)
        except OSError as exc:
            raise _StreamEnded(f"could not send the job: {exc}") from None

    def read_line(self, deadline: float) -> bytes:
        """One line of the runner's stdout, which must come by ``deadline``."""
        return next_line(self.out, lambda: self._receive(deadline))

    def read_to_end(self, deadline: float) -> tuple[bytes, bytes]:
        """Everything until the stream ends: stdout, and the end of stderr."""
        with contextlib.suppress(_StreamEnded):
            while True:
                self._receive(deadline)
        return bytes(self.out), bytes(self.err)

    def buffered(self) -> bool:
        """Whether stdout holds anything past the last line read (after a short look)."""
        with contextlib.suppress(WorkerLost):
            while self._ready(0.0):
                self._receive(time.monotonic())
        return bool(self.out)

    def stderr_tail(self) -> str:
        return self.err.decode("utf-8", "replace").strip()

    def _ready(self, timeout: float) -> bool:
        pending = getattr(self.raw, "pending", None)  # TLS: decrypted bytes poll cannot see
        if pending is not None and pending():
            return True
        poller = select.poll()
        poller.register(self.raw.fileno(), select.POLLIN)
        return bool(poller.poll(max(0.0, timeout) * 1000))

    def _receive(self, deadline: float) -> None:
        """Waits for the next chunk, and sorts the whole frames into stdout and stderr."""
        if not self._ready(deadline - time.monotonic()):
            raise WorkerLost("no answer in time")
        try:
            chunk = self.raw.recv(READ_CHUNK)
        except OSError as exc:
            raise _StreamEnded(f"its stream failed: {exc}") from None
        if not chunk:
            raise _StreamEnded("its output ended")
        self.frames += chunk
        self._sort_frames()

    def _sort_frames(self) -> None:
        while len(self.frames) >= FRAME_HEADER.size:
            kind, size = FRAME_HEADER.unpack_from(self.frames)
            if len(self.frames) < FRAME_HEADER.size + size:
                break
            payload = self.frames[FRAME_HEADER.size : FRAME_HEADER.size + size]
            del self.frames[: FRAME_HEADER.size + size]
            if kind == STDOUT:
                self.out += payload
            elif kind == STDERR:
                self.err = (self.err + payload)[-RUNNER_STDERR_KEPT:]
            else:
                raise WorkerLost(f"garbled stream: frame type {kind}")

    def shutdown(self) -> None:
        with contextlib.suppress(OSError):
            self.raw.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        for closeable in (self.raw, self.sock, getattr(self.sock, "_response", None)):
            if closeable is None:
                continue
            with contextlib.suppress(Exception):
                closeable.close()


class FifoStream:
    """The runner's protocol over two FIFOs, past the engine: requests into one, answers out
    of the other. The exec's attach stream stays open beside them for the runner's stderr.

    A thread waiting here is woken by ``shutdown`` (through a pipe of its own: a FIFO cannot
    be shut down from another thread), and a runner that is gone ends the answers (EOF)."""

    def __init__(self, requests: int, answers: int, attach: AttachStream) -> None:
        self.requests = requests
        self.answers = answers
        self.attach: AttachStream | None = attach
        self.out = bytearray()
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        #: One poller per (fd, event) waited for, made on first use and again when the attach
        #: stream ends: a wait is on the hot path of every batch.
        self._pollers: dict[tuple[int, int], select.poll] = {}

    @classmethod
    def connect(cls, directory: str, attach: AttachStream, deadline: float) -> FifoStream:
        """Opens both FIFOs once the runner's shell has opened its ends (the answers first, so
        that its shell's open of them cannot wait on us), or raises WorkerLost by
        ``deadline``."""
        answers = os.open(f"{directory}/{FIFO_OUT}", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            while True:
                try:
                    requests = os.open(
                        f"{directory}/{FIFO_IN}", os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC
                    )
                    return cls(requests, answers, attach)
                except OSError as exc:  # ENXIO: its shell has not opened it yet
                    if exc.errno != errno.ENXIO:
                        raise
                if time.monotonic() > deadline:
                    raise WorkerLost(f"the runner did not open {PROTOCOL_MOUNT}/{FIFO_IN}")
                if attach._ready(0.005):  # its shell failed, or said something on stderr
                    attach._receive(deadline)
        except BaseException:
            os.close(answers)
            raise

    def send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.requests, view) :]
            except BlockingIOError:
                self._wait(self.requests, select.POLLOUT, deadline)
            except OSError as exc:
                raise _StreamEnded(f"could not send the job: {exc}") from None

    def read_line(self, deadline: float) -> bytes:
        """One line of the runner's answers, which must come by ``deadline``."""
        return next_line(self.out, lambda: self._receive(deadline))

    def buffered(self) -> bool:
        """Whether the answers hold anything past the last line read (after a short look)."""
        with contextlib.suppress(WorkerLost):
            while True:
                self._receive(time.monotonic())
        return bool(self.out)

    def stderr_tail(self) -> str:
        return self.attach.stderr_tail() if self.attach is not None else ""

    def _receive(self, deadline: float) -> None:
        """Reads what the answers hold, waiting only when they hold nothing yet. A FIFO also
        reads empty before its writer has opened it, so an empty read is the end only once
        poll has told the writer's close (POLLHUP) from that."""
        waited = False
        while True:
            try:
                chunk = os.read(self.answers, READ_CHUNK)
            except BlockingIOError:
                chunk = None
            except OSError as exc:
                raise _StreamEnded(f"its stream failed: {exc}") from None
            if chunk:
                self.out += chunk
                return
            if chunk == b"" and waited:
                raise _StreamEnded("its output ended")
            self._wait(self.answers, select.POLLIN, deadline)
            waited = True

    def _wait(self, fd: int, event: int, deadline: float) -> None:
        """Until ``fd`` is ready for ``event``; meanwhile the runner's stderr is read (its
        stream must not fill up and block the runner)."""
        while True:
            remaining = deadline - time.monotonic()
            ready = {f for f, _ in self._poller(fd, event).poll(max(0.0, remaining) * 1000)}
            if self._wake_read in ready:
                raise _StreamEnded("interrupted")
            if fd in ready:
                return
            if self.attach is not None and self.attach.raw.fileno() in ready:
                try:
                    self.attach._receive(deadline)
                except WorkerLost:  # the exec ended: the answers end too, or already have
                    self.attach = None
                    self._pollers.clear()
                continue
            if not ready:
                raise WorkerLost("no answer in time")

    def _poller(self, fd: int, event: int) -> select.poll:
        poller = self._pollers.get((fd, event))
        if poller is None:
            poller = self._pollers[fd, event] = select.poll()
            poller.register(fd, event)
            poller.register(self._wake_read, select.POLLIN)
            if self.attach is not None:
                poller.register(self.attach.raw.fileno(), select.POLLIN)
        return poller

    def shutdown(self) -> None:
        """Wakes the waiting thread and ends the exec's stream, as the attach transport's
        shutdown does: an interrupted runner is not spoken to again, and a process that lives
        on after a signal holds nothing of its container open."""
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")
        attach = self.attach
        if attach is not None:
            attach.shutdown()

    def close(self) -> None:
        for fd in (self.requests, self.answers, self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.attach is not None:
            self.attach.close()


def _make_fifos(root: str) -> str:
    """A directory of its own under ``root`` with the two protocol FIFOs, which the
    containers' uid may open (``root`` keeps everyone else on the host out)."""
    directory = tempfile.mkdtemp(dir=root)
    os.chmod(directory, 0o755)
    for name in (FIFO_IN, FIFO_OUT):
        os.mkfifo(f"{directory}/{name}")
        os.chmod(f"{directory}/{name}", 0o666)
    return directory


def _buffered_past_headers(sock: Any, raw: socket.socket) -> bytes:
    """Takes what the HTTP response's buffered reader holds beyond the upgrade headers: output
    that came with them in one read (possible when the host is slow to read)."""
    reader = getattr(
        getattr(getattr(getattr(sock, "_response", None), "raw", None), "_fp", None), "fp", None
    )
    if reader is None or not hasattr(reader, "peek"):
        return b""
    timeout = raw.gettimeout()
    raw.setblocking(False)
    try:
        held = reader.peek()  # buffered bytes only: the non-blocking socket adds none
        return reader.read(len(held)) if held else b""
    except OSError:
        return b""
    finally:
        raw.settimeout(timeout)


def _runner_command(runner_path: str | None, cgroup_version: str, pids: int = PIDS) -> list[str]:
    """The exec that starts a runner: the image's, or this scaler's passed as an argument.
    Warm children take at most half the container's pids, less a margin, from the jobs."""
    args = ["--work-dir", WORK_DIR, "--cache-dir", CACHE_MOUNT, "--undumpable", "--read-only-cache"]
    for path in SCRUB_DIRS:
        args += ["--scrub", path]
    for option, files in (("--oom-events", OOM_EVENTS), ("--pids-current", PIDS_CURRENT)):
        if cgroup_version in files:
            args += [option, files[cgroup_version]]
    args += ["--warm-max", str(max(1, (pids - 16) // 2))]
    if runner_path is not None:
        return ["python3", runner_path, *args]
    source = Path(runner.__file__).read_text(encoding="utf-8")
    return ["python3", "-c", BOOTSTRAP, source, *args]


def _engine_cpus(base_url: str, info: dict[str, Any]) -> list[int]:
    """The CPUs containers may be pinned to: this process's, when the engine runs on this
    machine (:func:`_engine_here`) and has them all; none for an engine elsewhere, whose CPUs
    are not this machine's (Docker Desktop's VM numbers its own), or one that reports no
    count."""
    engine_cpus = info.get("NCPU")
    if not _engine_here(base_url, info) or not isinstance(engine_cpus, int):
        return []
    cpus = usable_cpus()
    return cpus if cpus and max(cpus) < engine_cpus else []


def _engine_here(base_url: str, info: dict[str, Any]) -> bool:
    """Whether the engine runs on this machine, sharing its files and FIFOs with this
    process: reached over a local unix socket, on this kernel, under this host name (an engine
    in a VM, as Docker Desktop's, runs another kernel; one whose socket was mounted into this
    process's container names another host)."""
    return (
        base_url == LOCAL_ENGINE
        and info.get("KernelVersion") == os.uname().release
        and info.get("Name") == socket.gethostname()
    )


def _api(version: str) -> Any:
    """A low-level client of its own (the SDK's sessions are not made for sharing threads)."""
    import docker

    return docker.from_env(version=version, timeout=API_TIMEOUT_S).api


def _remove(api: Any, container: str) -> None:
    """Force-removes a container and waits until it is gone (auto-removal may race us)."""
    import docker.errors

    deadline = time.monotonic() + REMOVE_TIMEOUT_S
    while True:
        try:
            api.remove_container(container, force=True)
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            if exc.status_code != 409 or time.monotonic() > deadline:  # 409: being removed
                raise
            time.sleep(0.05)
            continue
        return


# --- leftovers of crashed runs ---------------------------------------------------------------


def _boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def _pid_namespace() -> str:
    return str(os.stat("/proc/self/ns/pid").st_ino)


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (tells a pid's reuse apart)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def owner_token(pid: int | None = None) -> str:
    """Names a live process for as long as it lives: boot id, pid namespace, pid, start time."""
    pid = os.getpid() if pid is None else pid
    return f"{_boot_id()}/{_pid_namespace()}/{pid}/{_start_time(pid)}"


def _owner_alive(token: str) -> bool | None:
    """Whether the process a token names still runs; None when this host cannot tell (another
    machine sharing the engine, another pid namespace, or a boot before this one)."""
    try:
        boot, namespace, pid, started = token.split("/")
    except ValueError:
        return None
    if boot != _boot_id() or namespace != _pid_namespace():
        return None
    return _start_time(int(pid)) == started


def _make_fifo_root() -> Path:
    """A sandbox's directory for its containers' FIFO directories, private to this user (the
    FIFOs themselves must be open to the containers' uid), labelled with its owner."""
    root = Path(tempfile.mkdtemp(prefix=FIFO_ROOT_PREFIX))
    (root / OWNER_FILE).write_text(owner_token(), encoding="ascii")
    return root


def remove_stale_fifo_roots() -> list[Path]:
    """Removes the FIFO directories of sandboxes whose process is dead (killed, or ended by a
    signal before it could clean up); returns them. Those of live processes, and those whose
    owner this host cannot check, are left alone."""
    removed = []
    for root in Path(tempfile.gettempdir()).glob(f"{FIFO_ROOT_PREFIX}*"):
        try:
            token = (root / OWNER_FILE).read_text(encoding="ascii")
        except OSError:  # not ours to judge, or being removed
            continue
        if _owner_alive(token) is False:
            shutil.rmtree(root, ignore_errors=True)
            removed.append(root)
    return removed


def remove_leftovers(api: Any) -> list[str]:
    """Removes sandbox containers whose owning process is dead, and stopped ones whose owner
    this host cannot check (before a reboot, say); returns their ids. Containers of live
    sandboxes, here or on other machines using the same engine, are left alone."""
    removed = []
    for found in api.containers(all=True, filters={"label": LABEL_OWNER}):
        alive = _owner_alive(found.get("Labels", {}).get(LABEL_OWNER, ""))
        if alive is False or (alive is None and found.get("State") != "running"):
            _remove(api, found["Id"])
            removed.append(found["Id"])
    return removed


# --- signals ---------------------------------------------------------------------------------

_LIVE: weakref.WeakSet[DockerSandbox] = weakref.WeakSet()
_PREVIOUS: dict[int, Any] = {}


def _install_signal_handlers() -> None:
    """Once per process, from the main thread (only it may set handlers; elsewhere the
    lifeline alone removes the containers when the process dies). A signal that is ignored,
    or handled outside Python, is left as it is."""
    if _PREVIOUS or threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if previous == signal.SIG_DFL or callable(previous):
            _PREVIOUS[signum] = signal.signal(signum, _on_signal)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Cuts every live sandbox's lifelines (the engine removes those containers, whatever this
    process does next), then does what the previous handler would have done."""
    for sandbox in list(_LIVE):
        sandbox._cut_lifelines()
    previous = _PREVIOUS[signum]
    if callable(previous):
        previous(signum, frame)
    else:  # the default action: terminate (SIGINT's default in Python raises, above)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

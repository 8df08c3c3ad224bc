"""The sandbox runner: a long-lived worker that runs untrusted programs under limits.

Standard library only, and no imports from scaler: this file is copied as-is into sandbox
containers (read-only root, writable tmpfs at /tmp) and started there as
``python3 runner.py [--cache-dir DIR] [--work-dir DIR] [--uid UID --gid GID]`` plus, where the
runner shares its uid with its jobs (see below), ``[--undumpable] [--read-only-cache] [--scrub
DIR]... [--oom-events FILE]``. Needs Linux 5.3 or later (pidfd) and Python 3.9 or later.

Protocol (newline-delimited JSON): the runner first writes ``{"ready": true, "pid": ...,
"protocol": 1}``; then for each request line ``{"id", "language", "hash", "source", "stdin",
"limits": {"cpu_s", "wall_s", "memory_mb", "processes", "output_bytes"}}`` it writes one result
line ``{"id", "status", "exit_code", "stdout", "stderr", "wall_s", "cpu_s"}``. A malformed line
gets a "runtime-error" result that says why; EOF on stdin ends the runner.

How a job runs. Python jobs run in a process forked from this warm interpreter (no interpreter
start per job). C++ is compiled once per program hash into ``CACHE/cpp/HASH``, under an flock so
that workers sharing the cache compile a hash once; the compiler runs as a job itself (same
sandbox, 60 s limit: untrusted source could ``#include "/etc/shadow"``), and failures are
remembered in ``HASH.error``. The job's child makes its own session, gets fresh fds 0-2 (stdin
from a memfd, stdout/stderr to pipes) and loses every other fd, so neither a job nor a stray
print can reach the protocol, which lives on private close-on-exec copies of the runner's stdin
and stdout. It chdirs into a fresh work dir and gets rlimits (CPU, address space, file size,
stack; processes when it has its own uid). As root with ``--uid/--gid`` it drops to that uid
with no_new_privs; binaries are executed through an fd the runner opened as root, so the cache
may live where the uid cannot reach (e.g. under /root). As root the runner moves itself into a
new, empty network namespace at start, so jobs have no network (one namespace per worker, not
per job: making one costs about as much as a fork, and nothing a job starts outlives the job).
After each job its process group is killed; if the runner (a child subreaper, so setsid or
double-forked escapees stay its descendants) still has children, /proc is swept until no
descendant and no process of the job uid is left alive (a zombie whose other threads run is
alive); the work dir is removed. Only then does the answer go out: a process that outlives
SIGKILL for SWEEP_TIMEOUT_S ends the runner instead.

A runner that shares its uid with its jobs (a container's non-root user) owns nothing a job
could not reach, unless told otherwise: ``--undumpable`` makes it non-dumpable, so that its jobs
cannot open its fds (the protocol streams) or its memory through /proc, nor ptrace it;
``--read-only-cache`` never writes the cache dir (jobs could rewrite anything the runner can):
a program missing from it is compiled into a memfd that only the runner holds, run from there,
and handed back in the answer as ``"build": {"binary": BASE64}`` (or ``{"error": TEXT}``) for
the host to publish into the cache, which the runner sees read-only; ``--scrub DIR`` empties DIR
(say /tmp or /dev/shm) and the work dir after every job, so nothing a job leaves there reaches
the next one; ``--oom-events FILE`` names the cgroup file that counts the kernel's OOM kills
(cgroup v1 ``memory.oom_control``, v2 ``memory.events``) in a cgroup that holds only this
runner and its job: a job during which the count grows ends with "memory". After such a job, or
when the scrub fails, the answer carries ``"retire": REASON``: the runner's surroundings are no
longer known to be clean, and the host should replace them (the container).

Statuses: "timeout" when the wall limit or the CPU limit is hit (or CPU use exceeds cpu_s),
"output-limit" when stdout exceeds output_bytes (stderr is only truncated), "memory" when the
program fails with a Python MemoryError or a C++ std::bad_alloc, "runtime-error" for any other
non-zero exit or signal, "compile-error" when g++ fails.

What this cannot stop (the process backend is not a security boundary against hostile code):
- it shares the host kernel (exploits, side channels) and the filesystem: a job reads whatever is
  world-readable, writes world-writable places such as /tmp or /dev/shm (not cleaned up), and
  reaches filesystem unix sockets (the network namespace only isolates IP and abstract sockets);
- without root (no ``--uid``): jobs run as the runner's user, keep the network, have no process
  limit (RLIMIT_NPROC counts all of a user's processes), and can signal or ptrace the runner,
  poison the compile cache, or write into the protocol pipes through /proc (the host then sees a
  garbled stream and restarts the worker);
- RLIMIT_AS and RLIMIT_CPU are per process: a job that forks N processes may use N times the
  memory (cut short only by the wall limit and the process limit), and it may use every core;
  RLIMIT_AS counts virtual memory, so programs that reserve large address ranges fail, and a C++
  program whose static arrays exceed the limit dies of SIGSEGV at start ("runtime-error");
- memory exhaustion that surfaces as something else (a segfault, a C library error) is a
  "runtime-error"; text on stderr that looks like an out-of-memory death counts as one;
- SysV IPC and POSIX shared memory objects a job creates survive it; loopback is down;
- with ``--uid``, a Python job can import only what that uid can read (plus what the runner has
  imported): run the runner with an interpreter whose standard library is world-readable;
- a Python job shares the worker's hash seed and imported modules; its atexit handlers and
  non-daemon threads are not waited for; it can subvert its own wrapper (it shares the process),
  which only harms its own result.
"""

from __future__ import annotations

import argparse
import ast
import atexit
import base64
import builtins
import ctypes
import dataclasses
import fcntl
import gc
import hashlib
import itertools
import json
import linecache
import math
import operator
import os
import re
import resource
import select
import shutil
import signal
import stat
import sys
import tempfile
import time
import traceback
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from typing import Any, BinaryIO, NoReturn

PROTOCOL = 2
STDERR_MAX = 64 * 1024
#: The end of stderr kept apart from the (head-truncated) text, to recognise out-of-memory deaths.
STDERR_TAIL = 4096
READ_CHUNK = 64 * 1024
FILE_SIZE_MAX = 64 * 1024 * 1024
#: Not the whole memory limit: a C++ thread's default stack is RLIMIT_STACK, counted in RLIMIT_AS.
STACK_MAX = 256 * 1024 * 1024
CXX = ("g++", "-O2")
#: Linked statically (and stripped): such a binary starts in about a third of the CPU time (no
#: dynamic loader, no relocation of libstdc++), and most reference runs are that short. Where
#: the static libraries are missing (glibc-static is a package of its own on some systems),
#: builds link dynamically: the runner finds that out once, on its first failed build.
CXX_STATIC = ("-static", "-s")
#: C++17 first; contest solutions written for older standards (``bool++``, ``register``) get a
#: second chance as GNU C++14, as a judge offering several compilers would give them.
CXX_STANDARDS = ("-std=c++17", "-std=gnu++14")
#: How the baselines of the benchmarks build a program: as the runner's first try does.
BUILD_FLAGS = (*CXX[1:], *CXX_STATIC, CXX_STANDARDS[0])
#: Where the job child keeps the binary it executes (dup'ed there, close-on-exec).
EXE_FD = 3
#: Where a warm child keeps its fds (fds 0-2 are set from the first three before every run).
KEEP_IN, KEEP_OUT, KEEP_ERR, GO_FD, DONE_FD, WARM_EXE_FD = range(10, 16)
#: Compiled into every C++ build beside the program: a fork server that a warm child becomes
#: (docs/sandbox.md, "Batches"). It runs before the C library calls the program's constructors,
#: so each run starts the program exactly as exec would, less the exec.
FORKSERVER = "scaler_forkserver.cpp"
FORKSERVER_SOURCE = (
    """\
// Linked into every C++ program the sandbox builds. Started by a runner's warm child with
// its order and report pipes on fds GO_FD and DONE_FD, the program becomes a fork server
// before anything of it runs: each order forks a child that goes on to start the program as
// exec would have (its constructors, then main), so a run costs a fork of this small
// process, not an exec.
// Started any other way, it does nothing.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const int kGo = GO_FD, kDone = DONE_FD, kFirstKept = KEEP_IN;

bool is_pipe(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

long field(const char *order, const char *name) {
  const char *at = strstr(order, name);
  return at ? strtol(at + strlen(name), nullptr, 10) : 0;
}

double seconds(const struct timeval &t) { return t.tv_sec + t.tv_usec / 1e6; }

void report(const char *text, size_t size) {
  while (size > 0) {
    ssize_t n = write(kDone, text, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(125);
    text += n;
    size -= static_cast<size_t>(n);
  }
}

void serve(int, char **, char **) {
  if (!is_pipe(kGo) || !is_pipe(kDone)) return;
  signal(SIGPIPE, SIG_DFL);  // ignored signals would reach the runs, as exec keeps them
  signal(SIGXFSZ, SIG_DFL);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // the runs share the uid: not their way in to here
  for (int fd = kFirstKept; fd < kGo; ++fd) close(fd);
  char work[4096];
  if (!getcwd(work, sizeof work)) _exit(125);
  char order[512];
  size_t have = 0;
  for (;;) {
    char *end;
    while (!(end = static_cast<char *>(memchr(order, '\\n', have)))) {
      if (have == sizeof order) _exit(125);
      ssize_t n = read(kGo, order + have, sizeof order - have);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(0);  // the runner is done with this program
      have += static_cast<size_t>(n);
    }
    *end = '\\0';
    long run = field(order, "\\"run\\": ");
    long processes = field(order, "\\"processes\\": ");
    size_t used = static_cast<size_t>(end - order) + 1;
    memmove(order, order + used, have - used);
    have -= used;
    if (lseek(0, 0, SEEK_SET) < 0 || chdir(work) != 0) _exit(125);
    if (processes > 0) {
      struct rlimit limit;
      getrlimit(RLIMIT_NPROC, &limit);
      rlim_t wanted = static_cast<rlim_t>(processes);
      limit.rlim_cur = limit.rlim_max < wanted ? limit.rlim_max : wanted;
      setrlimit(RLIMIT_NPROC, &limit);
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(kGo);
      close(kDone);
      prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);  // as an exec'd program is
      return;  // on into the program's own start
    }
    int status = 0;
    struct rusage usage = {};
    if (pid < 0) {
      status = 126 << 8;  // as a failed spawn: the run's exit code says so
    } else {
      while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
      }
    }
    siginfo_t left = {};
    bool behind = waitid(P_ALL, 0, &left, WEXITED | WNOHANG | WNOWAIT) == 0;
    struct rusage own;
    getrusage(RUSAGE_SELF, &own);
    char text[256];
    int size = snprintf(
        text, sizeof text,
        "{\\"run\\": %ld, \\"wait_status\\": %d, \\"cpu_s\\": %.6f, \\"discard\\": %s, "
        "\\"own_cpu_s\\": %.6f}\\n",
        run, status, seconds(usage.ru_utime) + seconds(usage.ru_stime),
        behind ? "\\"processes left behind\\"" : "null",
        seconds(own.ru_utime) + seconds(own.ru_stime));
    report(text, static_cast<size_t>(size));
  }
}

}  // namespace

__attribute__((section(".preinit_array"), used)) static void (*const scaler_forkserver)(
    int, char **, char **) = serve;
""".replace("GO_FD", str(GO_FD))
    .replace("DONE_FD", str(DONE_FD))
    .replace("KEEP_IN", str(KEEP_IN))
)
#: Cached builds and remembered failures live under a name that changes with the compile
#: command, so a change of flags never serves an artifact (or an error) made by the old ones.
CPP_CACHE = (
    "cpp-"
    + hashlib.sha256(
        repr((CXX, CXX_STATIC, CXX_STANDARDS, FORKSERVER_SOURCE)).encode()
    ).hexdigest()[:12]
)
#: How long killed processes get to die before the runner gives up on itself: within the 5 s
#: the host grants a runner it stops.
SWEEP_TIMEOUT_S = 4.0
SWEEP_PAUSE_S = 0.002
#: The longest single wait in poll(), whose timeout is a C int of milliseconds.
POLL_MAX_S = 3600.0
JOB_PATH = "/usr/local/bin:/usr/bin:/bin"
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
HASH_RE = re.compile(r"[0-9A-Za-z_-]{1,128}")
LANGUAGES = ("python", "cpp")
#: Warm children one runner keeps at most (least recently used goes first). Each is one
#: process of the job uid, counted by the process limit (which a run's own limit is raised by)
#: and by a container's pids limit.
WARM_MAX = 64
RUNNER_DIR = os.path.dirname(os.path.realpath(__file__))

# Bound once: a Python job may rebind os._exit, but must not make its child return into the runner.
_exit = os._exit
_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, *[ctypes.c_ulong] * 4]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.inotify_init1.argtypes = [ctypes.c_int]
_libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]


@dataclasses.dataclass(frozen=True)
class Limits:
    cpu_s: float
    wall_s: float
    memory_mb: int
    processes: int
    output_bytes: int

    @classmethod
    def from_wire(cls, data: Any) -> Limits:
        if not isinstance(data, dict):
            raise BadRequest("limits must be an object")
        values: dict[str, Any] = {}
        for name in ("cpu_s", "wall_s", "memory_mb", "processes", "output_bytes"):
            value = data.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values[name] = float(value) if name.endswith("_s") else int(value)
            if not 0 < values.get(name, 0) < math.inf:
                raise BadRequest(f"limits.{name} must be a positive number, not {value!r}")
        return cls(**values)


#: The compiler runs as a job too, under these limits.
COMPILE_LIMITS = Limits(cpu_s=60, wall_s=60, memory_mb=4096, processes=16, output_bytes=1 << 20)


@dataclasses.dataclass(frozen=True)
class Config:
    cache_dir: str
    work_dir: str
    uid: int | None
    gid: int | None
    read_only_cache: bool = False
    scrub: tuple[str, ...] = ()
    oom_events: str | None = None
    #: The cgroup file counting the tasks of the runner's container (pids.current).
    pids_current: str | None = None
    warm_max: int = WARM_MAX

    @property
    def run_dir(self) -> str:
        """The work dir of every run of a batch, emptied after each."""
        return os.path.join(self.work_dir, "run")


@dataclasses.dataclass(frozen=True)
class Program:
    language: str
    hash: str
    source: str

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Program:
        for name in ("language", "hash", "source"):
            if not isinstance(data.get(name), str):
                raise BadRequest(f"{name} must be a string")
        if data["language"] not in LANGUAGES:
            raise BadRequest(f"language must be one of {LANGUAGES}, not {data['language']!r}")
        if data["language"] == "cpp" and not HASH_RE.fullmatch(data["hash"]):
            raise BadRequest("hash must be 1-128 characters of [0-9A-Za-z_-]")
        return cls(data["language"], data["hash"], data["source"])


@dataclasses.dataclass(frozen=True)
class Request:
    id: Any
    language: str
    hash: str
    source: str
    stdin: str
    limits: Limits

    @classmethod
    def parse(cls, line: bytes) -> Request:
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise BadRequest(f"not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise BadRequest("not a JSON object")
        try:
            return cls._from_dict(data)
        except BadRequest as exc:
            exc.job_id = data.get("id")
            raise

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Request:
        program = Program.from_wire(data)
        if not isinstance(data.get("stdin"), str):
            raise BadRequest("stdin must be a string")
        return cls(
            id=data.get("id"),
            language=program.language,
            hash=program.hash,
            source=program.source,
            stdin=data["stdin"],
            limits=Limits.from_wire(data.get("limits")),
        )


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float
    #: A compile made with --read-only-cache, for the host to publish: {"binary"} or {"error"}.
    build: dict[str, str] | None = None

    def to_wire(self, job_id: Any) -> dict[str, Any]:
        wire = {
            "id": job_id,
            "status": self.status,
            "exit_code": self.exit_code,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "wall_s": round(self.wall_s, 6),
            "cpu_s": round(self.cpu_s, 6),
        }
        if self.build is not None:
            wire["build"] = self.build
        return wire


class BadRequest(Exception):
    def __init__(self, message: str, job_id: Any = None) -> None:
        super().__init__(message)
        self.job_id = job_id


class CompileError(Exception):
    def __init__(self, message: str, wall_s: float = 0.0, cpu_s: float = 0.0) -> None:
        super().__init__(message)
        self.wall_s = wall_s
        self.cpu_s = cpu_s
        #: With --read-only-cache: the failure, for the host to remember in the cache.
        self.build: dict[str, str] | None = None


class Capture:
    """The child's stdout and stderr, bounded as they arrive so a flood never bloats the runner."""

    def __init__(self, out_fd: int, err_fd: int, out_limit: int) -> None:
        self.out_fd = out_fd
        self.err_fd = err_fd
        self.out_limit = out_limit
        self.out = bytearray()
        self.err = bytearray()
        self.err_tail = b""
        self.overflow = False
        self.err_truncated = False

    def read(self, fd: int) -> bool:
        """Takes one chunk from fd; False at EOF."""
        data = os.read(fd, READ_CHUNK)
        if not data:
            return False
        if fd == self.out_fd:
            room = self.out_limit - len(self.out)
            self.out += data[:room]
            self.overflow = self.overflow or len(data) > room
        else:
            room = STDERR_MAX - len(self.err)
            self.err += data[:room]
            self.err_truncated = self.err_truncated or len(data) > room
            self.err_tail = (self.err_tail + data)[-STDERR_TAIL:]
        return True

    def drain(self) -> None:
        """Takes what is left in the pipes once the job is dead, without waiting for EOF (a
        process that escaped every kill may still hold a write end)."""
        for fd in (self.out_fd, self.err_fd):
            os.set_blocking(fd, False)
            with suppress(BlockingIOError):
                while self.read(fd):
                    pass

    def stdout_text(self) -> str:
        return self.out.decode("utf-8", "replace")

    def stderr_text(self) -> str:
        text = self.err.decode("utf-8", "replace")
        return text + "\n[stderr truncated]" if self.err_truncated else text

    def out_of_memory(self) -> bool:
        """A Python MemoryError traceback or C++ std::bad_alloc at the end of stderr."""
        tail = self.err_tail.decode("utf-8", "replace")
        lines = tail.strip().splitlines()
        return "std::bad_alloc" in tail or bool(lines and lines[-1].startswith("MemoryError"))


# --- the job child ------------------------------------------------------------------------


def _prctl(option: int, value: int) -> None:
    """Best effort: every caller has a fallback or a weaker guarantee when this fails."""
    _libc.prctl(option, value, 0, 0, 0)


def _job_environment(work: str) -> dict[str, str]:
    """A fresh environment: the host's (secrets included) never reaches a job."""
    return {"PATH": JOB_PATH, "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8"}


def _cap(kind: int, soft: int, hard: int | None = None) -> None:
    """Sets a limit, or the current hard limit where that is lower (only root may raise one)."""
    hard = soft if hard is None else hard
    current = resource.getrlimit(kind)[1]
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(kind, (soft, hard))


def _set_limits(
    limits: Limits, own_uid: bool, cpu_hard: int | None = None, processes: int | None = None
) -> None:
    """The job's limits; ``cpu_hard`` (a warm Python child's lifetime budget, its runs' own
    limits set before each) and ``processes`` (room for a worker's warm children) widen two."""
    cpu = max(1, math.ceil(limits.cpu_s))
    memory = limits.memory_mb * 1024 * 1024
    if cpu_hard is None:
        _cap(resource.RLIMIT_CPU, cpu, cpu + 1)  # SIGXCPU first, SIGKILL a second later
    else:
        _cap(resource.RLIMIT_CPU, cpu_hard)
    _cap(resource.RLIMIT_AS, memory)
    # Deep recursion is common in reference solutions; the memory limit still bounds the stack.
    _cap(resource.RLIMIT_STACK, min(memory, STACK_MAX))
    _cap(resource.RLIMIT_FSIZE, FILE_SIZE_MAX)
    _cap(resource.RLIMIT_CORE, 0)
    if own_uid:  # RLIMIT_NPROC counts every process of the uid: only meaningful for our own uid
        _cap(resource.RLIMIT_NPROC, processes or limits.processes)


def _drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


def _child(
    work: str,
    become: Callable[[str], None],
    std_fds: tuple[int, int, int],
    exe_fd: int | None,
    limits: Limits,
    cfg: Config,
    runner_pid: int,
) -> NoReturn:
    """The forked child: fence itself in, then become the job. It never returns to the runner."""
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.setsid()
        for target, fd in enumerate(std_fds):
            os.dup2(fd, target)
        if exe_fd is not None and exe_fd != EXE_FD:
            os.dup2(exe_fd, EXE_FD, inheritable=False)
        os.closerange(3 if exe_fd is None else EXE_FD + 1, os.sysconf("SC_OPEN_MAX"))
        os.chdir(work)
        _set_limits(limits, own_uid=cfg.uid is not None)
        if cfg.uid is not None and cfg.gid is not None:
            _drop_privileges(cfg.uid, cfg.gid)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after the uid change, which clears it
        if os.getppid() == runner_pid:
            become(work)
    except BaseException:
        with suppress(BaseException):
            traceback.print_exc()
    finally:
        _exit(126)


def _become_exec(target: int | str, argv: tuple[str, ...], work: str) -> NoReturn:
    # Python ignores SIGPIPE and SIGXFSZ, and ignored signals would survive exec.
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    os.execve(target, list(argv), _job_environment(work))


def _become_python(source: str, work: str) -> NoReturn:
    """Turns this forked worker into a fresh-looking ``python3 program.py`` run."""
    _python_stdio()
    os.environ.clear()
    os.environ.update(_job_environment(work))
    sys.argv = ["<program>"]
    _exit(_exec_python(source, _main_module(source)))


def _exec_python(
    source: str, namespace: dict[str, Any], compiled: types.CodeType | None = None
) -> int:
    """Runs the program as the interpreter would, returning the exit code it would give;
    ``compiled`` is the program compiled already (a warm child compiles it once)."""
    try:
        # dont_inherit: the runner's own __future__ imports must not change the program.
        exec(compiled or compile(source, "<program>", "exec", dont_inherit=True), namespace)
        code = 0
    except SystemExit as exc:
        code = system_exit_code(exc.code)
    except BaseException as exc:
        tb = exc.__traceback__
        traceback.print_exception(type(exc), exc, tb.tb_next if tb else None)  # drop our frame
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        return code or 120  # what the interpreter returns when flushing at exit fails
    return code


def system_exit_code(code: object) -> int:
    """What the interpreter exits with for ``SystemExit(code)``; a message goes to stderr."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


# --- running a job ------------------------------------------------------------------------


def _kill_group(pgid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _process_table() -> Iterator[tuple[int, int, bool, set[int]]]:
    """(pid, parent pid, alive, uids) of every process visible in /proc."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as f:
                text = f.read().decode("ascii", "replace")
        except OSError:
            continue  # exited meanwhile
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        with suppress(KeyError, ValueError):
            uids = {int(u) for u in fields["Uid"].split()}
            yield int(name), int(fields["PPid"]), _alive(name, fields["State"]), uids


def _alive(pid: str, state: str) -> bool:
    """Whether a thread of the process still runs. A zombie entry is not enough to tell: when
    the main thread ends on its own (pthread_exit, exit(2)), /proc shows the process as a zombie
    while its other threads run on, until the process is killed."""
    if state.strip()[:1] not in ("Z", "X"):
        return True
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        with suppress(OSError), open(f"/proc/{pid}/task/{task}/stat", "rb") as f:
            if f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X"):
                return True
    return False


def _leftovers(root: int, uid: int | None) -> list[int]:
    """Live processes descending from root, or running as uid (zombies are dead already)."""
    children: dict[int, list[int]] = {}
    found = []
    for pid, ppid, alive, uids in _process_table():
        if not alive:
            continue
        children.setdefault(ppid, []).append(pid)
        if uid in uids:
            found.append(pid)
    stack = list(children.get(root, ()))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return [pid for pid in set(found) if pid != root]


def _has_children() -> bool:
    """Whether the job left anything behind, without scanning /proc.

    As a child subreaper the runner inherits every orphan of the job, so once the job's main
    process is reaped, anything the job left running is a child of the runner or below one. The
    /proc scan (milliseconds per job on a busy host) then runs only when there is something to
    find. Processes of the job uid outside the runner's tree would need a privileged helper to
    start them (jobs have no_new_privs); the startup sweep and any later sweep still kill them.
    """
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def _sweep(uid: int | None, keep: set[int] | None = None) -> None:
    """SIGKILLs whatever a job left behind and returns once /proc shows all of it dead, then
    reaps.

    The runner is a child subreaper, so processes that left the job's process group (setsid,
    double fork) are still its descendants; with a dedicated uid, every process of that uid is
    the job's as well, which also catches anything that left the process tree. A process that
    does not die ends the runner: its answer would say the job is over while the job still ran,
    and the runner that replaces it sweeps the uid again before it serves.
    """
    deadline = time.monotonic() + SWEEP_TIMEOUT_S
    while victims := [pid for pid in _leftovers(os.getpid(), uid) if pid not in (keep or ())]:
        if time.monotonic() > deadline:
            raise SystemExit(f"sandbox runner: processes {victims} outlived SIGKILL")
        for pid in victims:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(SWEEP_PAUSE_S)
    with suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _stdin_fd(data: bytes) -> int:
    """The job's stdin as an anonymous in-memory file: nothing to name, write to disk or delete."""
    fd = os.memfd_create("stdin")
    with open(fd, "wb", closefd=False) as f:
        f.write(data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _pump(pid: int, pidfd: int, capture: Capture, deadline: float) -> str | None:
    """Reads the child's output until it exits; kills its group at the wall deadline or when
    stdout passes its limit, and returns which of the two happened (None: neither)."""
    poller = select.poll()
    for fd in (pidfd, capture.out_fd, capture.err_fd):
        poller.register(fd, select.POLLIN)
    killed_for = None
    while True:
        remaining = min(max(0.0, deadline - time.monotonic()), POLL_MAX_S)
        events = poller.poll(None if killed_for else math.ceil(remaining * 1000))
        if not events and time.monotonic() >= deadline:
            _kill_group(pid)
            killed_for = "timeout"
        for fd, _ in events:
            if fd == pidfd:
                return killed_for
            if not capture.read(fd):
                poller.unregister(fd)
        if capture.overflow and not killed_for:
            _kill_group(pid)
            killed_for = "output-limit"


def _classify(
    exit_code: int, cpu_s: float, limits: Limits, killed_for: str | None, capture: Capture
) -> tuple[str, int]:
    if killed_for:
        return killed_for, exit_code
    if capture.overflow:
        return "output-limit", exit_code
    if exit_code == -signal.SIGXCPU or cpu_s > limits.cpu_s:
        return "timeout", exit_code
    if exit_code == 0:
        return "ok", exit_code
    return ("memory" if capture.out_of_memory() else "runtime-error"), exit_code


def _run(
    work: str,
    become: Callable[[str], None],
    stdin: bytes,
    limits: Limits,
    cfg: Config,
    exe_fd: int | None = None,
) -> Outcome:
    """Forks the job child, supervises it, and leaves nothing of it running."""
    stdin_fd = _stdin_fd(stdin)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    runner_pid = os.getpid()
    start = time.monotonic()
    try:
        pid = os.fork()
        if pid == 0:
            _child(work, become, (stdin_fd, out_w, err_w), exe_fd, limits, cfg, runner_pid)
    except BaseException:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        for fd in (stdin_fd, out_w, err_w):
            os.close(fd)
    capture = Capture(out_r, err_r, limits.output_bytes)
    try:
        pidfd = os.pidfd_open(pid)
        try:
            killed_for = _pump(pid, pidfd, capture, start + limits.wall_s)
            wall_s = time.monotonic() - start
        finally:
            os.close(pidfd)
    finally:
        _kill_group(pid)  # before reaping: the zombie keeps the group id from being reused
        _, wait_status, usage = os.wait4(pid, 0)
        if _has_children():
            _sweep(cfg.uid)
        capture.drain()
        os.close(out_r)
        os.close(err_r)
    cpu_s = usage.ru_utime + usage.ru_stime
    exit_code = os.waitstatus_to_exitcode(wait_status)
    status, exit_code = _classify(exit_code, cpu_s, limits, killed_for, capture)
    return Outcome(status, exit_code, capture.stdout_text(), capture.stderr_text(), wall_s, cpu_s)


@contextmanager
def _job_dir(cfg: Config) -> Iterator[str]:
    work = tempfile.mkdtemp(prefix="job-", dir=cfg.work_dir)
    try:
        if cfg.uid is not None and cfg.gid is not None:
            os.chown(work, cfg.uid, cfg.gid)
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- C++ ----------------------------------------------------------------------------------


@contextmanager
def _flock(path: str) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def publish(path: str, data: bytes, mode: int) -> None:
    """Writes under a temporary name, then renames: readers never see a partial file."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
    try:
        with open(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _binary(program_hash: str, source: str, cfg: Config) -> str:
    """The compiled program for this hash, compiled once by all workers sharing the cache."""
    binary = os.path.join(cfg.cache_dir, CPP_CACHE, program_hash)
    if os.path.exists(binary):
        return binary
    failure = binary + ".error"
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    with _flock(binary + ".lock"):
        if os.path.exists(binary):
            return binary
        if os.path.exists(failure):
            with open(failure, encoding="utf-8") as f:
                raise CompileError(f.read())
        try:
            publish(binary, _compile(source, cfg), 0o755)
        except CompileError as exc:
            publish(failure, str(exc).encode(), 0o644)
            raise
    return binary


def _open_build(program_hash: str, source: str, cfg: Config) -> tuple[int, dict[str, str] | None]:
    """With --read-only-cache: an fd of the cached binary, or else of a fresh build in a memfd
    that only this runner holds, with that build to hand back. The cache is never written here:
    the jobs share the runner's uid and could rewrite whatever it can."""
    binary = os.path.join(cfg.cache_dir, CPP_CACHE, program_hash)
    with suppress(FileNotFoundError):
        return os.open(binary, os.O_RDONLY), None
    try:
        with open(binary + ".error", encoding="utf-8") as f:
            remembered = f.read()
    except FileNotFoundError:
        pass
    else:
        raise CompileError(remembered)
    try:
        data = _compile(source, cfg)
    except CompileError as exc:
        exc.build = {"error": str(exc)}
        raise
    fd = os.memfd_create("program")  # close-on-exec; the job child dups it to EXE_FD
    with open(fd, "wb", closefd=False) as f:
        f.write(data)
    return fd, {"binary": base64.b64encode(data).decode("ascii")}


#: Whether static links work here: unknown until a build fails (then a trivial one is tried).
_links_statically: list[bool] = []


def _compile(source: str, cfg: Config) -> bytes:
    """The build, linked statically unless this system cannot (see CXX_STATIC)."""
    try:
        return _build(source, cfg, () if _links_statically == [False] else CXX_STATIC)
    except CompileError:
        if _links_statically:
            raise
        try:
            _build("int main() { return 0; }\n", cfg, CXX_STATIC)
        except CompileError:
            _links_statically.append(False)
            return _build(source, cfg, ())
        _links_statically.append(True)
        raise


def _build(source: str, cfg: Config, link: tuple[str, ...]) -> bytes:
    """Runs the compiler as a sandboxed job (untrusted source: think ``#include "/etc/shadow"``)."""
    compiler = shutil.which(CXX[0])
    if compiler is None:
        raise CompileError(f"{CXX[0]} not found on PATH")
    with _job_dir(cfg) as work:
        with open(os.path.join(work, "main.cpp"), "w", encoding="utf-8") as f:
            f.write(source)
        with open(os.path.join(work, FORKSERVER), "w", encoding="utf-8") as f:
            f.write(FORKSERVER_SOURCE)
        first: CompileError | None = None
        for standard in CXX_STANDARDS:
            argv = (*CXX, *link, standard, "-o", "main", "main.cpp", FORKSERVER)
            outcome = _run(work, partial(_become_exec, compiler, argv), b"", COMPILE_LIMITS, cfg)
            if outcome.status == "ok":
                fd = os.open(os.path.join(work, "main"), os.O_RDONLY | os.O_NOFOLLOW)
                with open(fd, "rb") as f:
                    return f.read()
            if first is None:
                note = "" if outcome.status == "runtime-error" else f"\n[compiler {outcome.status}]"
                first = CompileError(outcome.stderr + note, outcome.wall_s, outcome.cpu_s)
            if outcome.status != "runtime-error":
                break
        assert first is not None
        raise first


# --- batches: many runs per warm child ------------------------------------------------------

#: A warm Python child's lifetime CPU budget, in runs' CPU limits: RLIMIT_CPU is per process,
#: so its hard limit bounds every run the child serves; the child is replaced before a run
#: could reach it.
CHILD_CPU_RUNS = 20


def _cpu_budget(limits: Limits) -> int:
    """A warm Python child's lifetime CPU limit (its hard RLIMIT_CPU)."""
    return CHILD_CPU_RUNS * max(1, math.ceil(limits.cpu_s))


#: A warm child whose address space grew by more than this since it was made is replaced, so
#: that a run has the memory a fresh process would have.
CHILD_GROWTH_MAX = 32 << 20
#: How long a runner keeps warm children with no request to serve.
WARM_IDLE_S = 2.0
#: What a program's source may name for its runs to share a child: any of these, or an
#: attribute assigned on an imported name, and every run gets a fresh child (see
#: docs/sandbox.md). They reach state that the checks after a run do not see.
UNWARM_NAMES = frozenset(
    {
        "exec", "eval", "compile", "setattr", "delattr", "globals", "vars", "__import__",
        "__builtins__", "__dict__", "__class__", "__subclasses__", "__globals__", "__code__",
        "__closure__", "__defaults__", "__kwdefaults__", "_getframe", "settrace", "setprofile",
        "modules", "DefaultContext", "gc", "ctypes", "importlib", "inspect", "signal",
        "builtins", "faulthandler", "tracemalloc", "sys_getframe", "f_back", "f_globals",
        "register_at_fork", "putenv", "unsetenv", "setitimer", "alarm", "mmap", "_thread",
    }
)  # fmt: skip
#: Modules never imported ahead of a run: importing them prints or warns.
NO_PRELOAD = frozenset(
    {
        "this", "antigravity", "__hello__", "__phello__", "imp", "asynchat", "asyncore",
        "smtpd", "distutils", "cgi", "cgitb", "crypt", "imghdr", "mailcap", "nntplib", "pipes",
        "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "aifc", "audioop", "chunk",
        "msilib", "nis", "ossaudiodev", "lib2to3", "tkinter", "turtle", "idlelib", "turtledemo",
    }
)  # fmt: skip
#: sys attributes a run sets and the child resets: not compared after a run.
SYS_RESET = frozenset(
    {
        "stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__", "argv",
        "displayhook", "excepthook", "breakpointhook", "last_type", "last_value",
        "last_traceback", "exc_info",
    }
)  # fmt: skip


def program_imports(source: str) -> tuple[set[str], bool]:
    """The standard modules a program imports (to import them ahead of its runs), and whether
    its runs may share a child at all: not when it names what reaches state a later run would
    see without the checks noticing (UNWARM_NAMES), or assigns attributes of imported names."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set(), True  # every run fails the same way: nothing to carry over
    modules: set[str] = set()
    imported: set[str] = set()
    shareable = True
    allowed, embedded = _embedded_programs(tree)
    for inner in embedded:
        inner_modules, inner_shareable = program_imports(inner)
        modules |= inner_modules
        shareable = shareable and inner_shareable
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                modules.add(alias.name)
                imported.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = {alias.name for alias in node.names}
            if names & UNWARM_NAMES or (node.module == "builtins" and _dunder(names)):
                shareable = False  # under another name (as): the name check would not see it
            if node.module != "builtins":  # its names are what the program can name anyway
                modules.add(node.module)
                modules.update(f"{node.module}.{name}" for name in names)
            imported.update(alias.asname or alias.name for alias in node.names)
        elif id(node) in allowed:
            continue
        elif (isinstance(node, ast.Name) and node.id in UNWARM_NAMES) or (
            isinstance(node, ast.Attribute) and node.attr in UNWARM_NAMES
        ):
            shareable = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            reset = isinstance(root, ast.Name) and root.id == "sys" and node.attr in SYS_RESET
            if isinstance(root, ast.Name) and root.id in imported and not reset:
                shareable = False
    if {m.split(".")[0] for m in modules} & UNWARM_NAMES:
        shareable = False
    return {m for m in modules if m.split(".")[0] in _stdlib() - NO_PRELOAD}, shareable


def _dunder(names: set[str]) -> bool:
    return any(name.startswith("_") for name in names)


def _embedded_programs(tree: ast.Module) -> tuple[set[int], list[str]]:
    """``exec(compile(NAME, ...), namespace)`` where NAME is a module-level string: a program
    run inside the program, in a namespace of its own (scaler's generator harness). That string
    is judged as a program of its own, and this one use of exec and compile is allowed (a
    namespace reached through globals() or a module's __dict__ is flagged by those names)."""
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    allowed: set[int] = set()
    embedded: list[str] = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "exec"
            and len(node.args) == 2
            and isinstance(node.args[1], (ast.Dict, ast.Name))
        ):
            continue
        inner = node.args[0]
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Name)
            and inner.func.id == "compile"
            and inner.args
            and isinstance(inner.args[0], ast.Name)
            and inner.args[0].id in constants
        ):
            allowed.update((id(node.func), id(inner.func)))
            embedded.append(constants[inner.args[0].id])
    return allowed, embedded


def _stdlib() -> frozenset[str]:
    return frozenset(getattr(sys, "stdlib_module_names", ()))


@dataclasses.dataclass
class _Baseline:
    """What a warm Python child looks like before its first run: after each run it must look
    the same, or be replaced."""

    modules: frozenset[str]
    #: Per module watched: its names, and the objects they were bound to.
    watched: list[tuple[str, tuple[str, ...], tuple[Any, ...]]]
    fds: frozenset[str]
    limits: tuple[tuple[int, int], ...]
    vm_bytes: int
    recursion: int
    int_digits: int
    switch: float
    gc_threshold: tuple[int, int, int]
    umask: int
    path: list[str]
    meta_path: list[Any]
    path_hooks: list[Any]
    warning_filters: list[Any] | None

    @classmethod
    def take(cls, watch: set[str]) -> _Baseline:
        umask = os.umask(0)
        os.umask(umask)
        warnings = sys.modules.get("warnings")
        return cls(
            modules=frozenset(sys.modules),
            watched=[
                (name, *_module_items(sys.modules[name]))
                for name in sorted(watch | {"builtins"})
                if name in sys.modules
            ],
            fds=frozenset(os.listdir("/proc/self/fd")),
            limits=_fixed_limits(),
            vm_bytes=_threads_and_vm_bytes()[1],
            recursion=sys.getrecursionlimit(),
            int_digits=sys.get_int_max_str_digits(),
            switch=sys.getswitchinterval(),
            gc_threshold=gc.get_threshold(),
            umask=umask,
            path=list(sys.path),
            meta_path=list(sys.meta_path),
            path_hooks=list(sys.path_hooks),
            warning_filters=list(warnings.filters) if warnings else None,
        )


def _module_items(module: types.ModuleType) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    items = [(k, v) for k, v in vars(module).items() if module is not sys or k not in SYS_RESET]
    return tuple(k for k, _ in items), tuple(v for _, v in items)


def _fixed_limits() -> tuple[tuple[int, int], ...]:
    """The limits a run may not change for the next: all but the CPU's and the process
    limit's soft values, which the child sets before every run."""
    return (
        resource.getrlimit(resource.RLIMIT_AS),
        resource.getrlimit(resource.RLIMIT_STACK),
        resource.getrlimit(resource.RLIMIT_FSIZE),
        resource.getrlimit(resource.RLIMIT_CORE),
        (0, resource.getrlimit(resource.RLIMIT_CPU)[1]),
        (0, resource.getrlimit(resource.RLIMIT_NPROC)[1]),
    )


def _threads_and_vm_bytes() -> tuple[int, int]:
    """This process's thread count and address-space size, from one read of its stat file
    (fields 20 and 23, counted after the command name, which may hold spaces)."""
    with open("/proc/self/stat", "rb") as f:
        fields = f.read().rpartition(b")")[2].split()
    return int(fields[17]), int(fields[20])


def _python_stdio() -> None:
    """sys.stdin, stdout and stderr as ``python3 program.py`` has them, on fds 0-2. The
    program's sys.__stdin__ and the others are these streams too: typeshed marks them Final,
    the interpreter lets them be replaced."""
    sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", newline="\n", closefd=False)  # type: ignore[misc]  # noqa: SIM115
    sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", newline="\n", closefd=False)  # type: ignore[misc]  # noqa: SIM115
    sys.stderr = sys.__stderr__ = open(  # type: ignore[misc]  # noqa: SIM115
        2,
        "w",
        buffering=1,
        encoding="utf-8",
        errors="backslashreplace",
        newline="\n",
        closefd=False,
    )


def _main_module(source: str) -> dict[str, Any]:
    """A fresh ``__main__`` for one run, and the program's lines for its tracebacks."""
    linecache.cache["<program>"] = (len(source), None, source.splitlines(True), "<program>")
    main = types.ModuleType("__main__")
    # A script's globals hold __builtins__; typeshed's ModuleType does not declare it.
    main.__builtins__ = builtins  # type: ignore[attr-defined]
    sys.modules["__main__"] = main
    return main.__dict__


def _prepare_run(order: dict[str, Any], base: _Baseline, work: str, used: float) -> None:
    """Everything a run may have changed that the next run must find as a fresh process has
    it: the standard streams and fds 0-2, argv, the environment, the work dir, the interpreter's
    settings, random's global state, and the CPU and process limits of this run (``used``:
    the CPU time this child has used so far)."""
    for keep, fd in ((KEEP_IN, 0), (KEEP_OUT, 1), (KEEP_ERR, 2)):
        os.dup2(keep, fd)
    os.lseek(0, 0, os.SEEK_SET)
    _python_stdio()
    environment = _job_environment(work)
    if os.environ != environment:  # each change is a putenv or unsetenv: only when it differs
        os.environ.clear()
        os.environ.update(environment)
    os.chdir(work)
    os.umask(base.umask)
    sys.argv = ["<program>"]
    sys.path[:] = base.path
    sys.meta_path[:] = base.meta_path
    sys.path_hooks[:] = base.path_hooks
    sys.setrecursionlimit(base.recursion)
    sys.set_int_max_str_digits(base.int_digits)
    sys.setswitchinterval(base.switch)
    sys.displayhook, sys.excepthook = sys.__displayhook__, sys.__excepthook__
    sys.breakpointhook = sys.__breakpointhook__
    gc.enable()
    gc.set_threshold(*base.gc_threshold)
    if "random" in sys.modules:
        sys.modules["random"].seed()  # from os.urandom, as after a fork
    if "threading" in sys.modules:
        threading = sys.modules["threading"]
        threading.stack_size(0)
        threading._counter = itertools.count(1).__next__  # type: ignore[attr-defined]  # names from Thread-1
    if "decimal" in sys.modules:
        sys.modules["decimal"].setcontext(sys.modules["decimal"].Context())
    if base.warning_filters is not None:
        warnings = sys.modules["warnings"]
        warnings.filters[:] = base.warning_filters
        warnings._filters_mutated()
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    soft = math.ceil(used + float(order["cpu_s"]))
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard < 0 else min(soft, hard), hard))
    if order.get("processes"):
        hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        resource.setrlimit(resource.RLIMIT_NPROC, (min(int(order["processes"]), hard), hard))


def _cpu_used() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _after_run(namespace: dict[str, Any], base: _Baseline) -> tuple[str | None, list[str]]:
    """Tidies up after a run and says why the child may not serve another (None: it may),
    with the modules the run imported (the next child imports them ahead)."""
    namespace.clear()
    atexit._clear()
    gc.collect()
    threads, vm_bytes = _threads_and_vm_bytes()
    if threads > 1:
        return "threads left running", []
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        pass
    else:
        return "processes left behind", []
    if len(sys.modules) != len(base.modules) or not base.modules.issuperset(sys.modules):
        return "imported modules", sorted(set(sys.modules) - base.modules)
    for name, keys, values in base.watched:
        now = vars(sys.modules[name])
        size = len(now) - (len(SYS_RESET & now.keys()) if name == "sys" else 0)
        if size != len(keys) or any(map(operator.is_not, map(now.get, keys, _MISSING), values)):
            return f"changed the module {name}", []
    if frozenset(os.listdir("/proc/self/fd")) != base.fds:
        return "left files open or closed fds", []
    if _fixed_limits() != base.limits:
        return "changed its limits", []
    if vm_bytes > base.vm_bytes + CHILD_GROWTH_MAX:
        return "grew its memory", []
    return None, []


#: Stands in for a name a module no longer has (dict.get's default, for every key).
_MISSING = itertools.repeat(object())


def _serve_python(source: str, work: str, preload: list[str] | None) -> int:
    """A warm Python child: the program compiled once, each run in fresh module globals.
    ``preload`` None: the program's runs may not share a child (program_imports)."""
    try:
        code: types.CodeType | None = compile(source, "<program>", "exec", dont_inherit=True)
    except BaseException:
        code = None  # each run compiles it again, and fails as a fresh process would
    shareable = preload is not None
    preload = preload or []
    for name in preload:
        with suppress(BaseException):
            __import__(name)
    base = _Baseline.take({n.split(".")[0] for n in preload})
    gc.freeze()
    orders = os.fdopen(GO_FD, "rb")
    for line in orders:
        order = json.loads(line)
        started = _cpu_used()
        _prepare_run(order, base, work, started)
        namespace = _main_module(source)
        exit_code = _exec_python(source, namespace, code)
        cpu_s = _cpu_used() - started
        why, imported = _after_run(namespace, base)
        if why is None and not shareable:
            why = "its source reaches state the checks do not see"
        _tell(
            order["run"],
            {"exit_code": exit_code, "cpu_s": cpu_s, "discard": why, "imported": imported},
        )
    return 0


def _become_forkserver(work: str) -> NoReturn:
    """A warm child for a C++ program becomes the program itself, in its fork server's mode
    (FORKSERVER_SOURCE): each run is a fork of it, inheriting this child's fences and limits.
    The run's CPU time, wait status and leftovers are reported as a Python child's are."""
    for fd in (GO_FD, DONE_FD):
        os.set_inheritable(fd, True)
    _become_exec(f"/proc/self/fd/{WARM_EXE_FD}", ("program",), work)


def _tell(run: int, report: dict[str, Any]) -> None:
    os.write(DONE_FD, json.dumps({"run": run, **report}).encode() + b"\n")


def _warm_child(
    program: Program,
    fds: tuple[int, ...],
    limits: Limits,
    cfg: Config,
    runner_pid: int,
    preload: list[str] | None,
) -> NoReturn:
    """The forked warm child: fenced in as a job child is, once; then it serves runs."""
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.setsid()
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64) for fd in fds]
        for target, fd in zip(range(KEEP_IN, KEEP_IN + len(moved)), moved, strict=True):
            os.dup2(fd, target, inheritable=False)
        os.closerange(3, KEEP_IN)
        os.closerange(KEEP_IN + len(moved), os.sysconf("SC_OPEN_MAX"))
        for keep, fd in ((KEEP_IN, 0), (KEEP_OUT, 1), (KEEP_ERR, 2)):
            os.dup2(keep, fd)
        work = cfg.run_dir
        os.chdir(work)
        # Room for the warm children of the job uid: each run's own limit is set before it.
        room = limits.processes + cfg.warm_max + 1
        cpu_hard = None
        if program.language == "python":
            cpu_hard = _cpu_budget(limits)
        _set_limits(limits, cfg.uid is not None, cpu_hard, room)
        if cfg.uid is not None and cfg.gid is not None:
            _drop_privileges(cfg.uid, cfg.gid)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _prctl(PR_SET_CHILD_SUBREAPER, 1)  # what a run leaves behind stays below this child
        if os.getppid() == runner_pid:
            if program.language == "python":
                _exit(_serve_python(program.source, work, preload))
            _become_forkserver(work)
    except BaseException:
        with suppress(BaseException):
            traceback.print_exc()
    finally:
        _exit(126)


class WarmChild:
    """The runner's handle on one warm child: its pipes, and what it has used so far."""

    def __init__(
        self, pid: int, language: str, stdin: int, out: int, err: int, go: int, done: int
    ) -> None:
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.children = HeldFile(_children_file(pid))
        self.language = language
        self.stdin, self.out, self.err, self.go, self.done = stdin, out, err, go, done
        self.runs = 0
        self.cpu_s = 0.0
        self.alive = True

    def ready(self) -> bool:
        """Alive and idle: not killed or stopped by another program's run meanwhile."""
        if not self.alive or select.select([self.pidfd], [], [], 0)[0]:
            return False
        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGCONT)
        return True

    def close(self) -> None:
        if self.alive:
            _kill_group(self.pid)
            with suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.alive = False
        for fd in (self.pidfd, self.stdin, self.out, self.err, self.go, self.done):
            with suppress(OSError):
                os.close(fd)
        self.children.close()
        self.pidfd = self.stdin = self.out = self.err = self.go = self.done = -1


class Warm:
    """The warm children of one runner, by (program, limits), least recently used first."""

    def __init__(self, cfg: Config, fences: Fences) -> None:
        self.cfg = cfg
        self.fences = fences
        self.children: dict[tuple[str, str, Limits], WarmChild] = {}
        #: Modules runs of a program imported: the next child for it imports them ahead.
        self.learned: dict[str, set[str]] = {}
        self.pids_baseline = fences.pids.integer()
        self.own_children = HeldFile(_children_file(os.getpid()))

    def pids(self) -> set[int]:
        return {child.pid for child in self.children.values()}

    def ready(self, program: Program, limits: Limits) -> WarmChild | None:
        """The program's warm child, if it has one that is ready for a run."""
        key = (program.language, program.hash, limits)
        child = self.children.pop(key, None)
        if child is not None and child.ready():
            self.children[key] = child
            return child
        if child is not None:
            child.close()
        return None

    def make(self, program: Program, limits: Limits) -> tuple[WarmChild, dict[str, str] | None]:
        """A new warm child for the program (C++: compiled first, if need be), and the build to
        hand back when one was made now. The fork is here, not in a helper: a run's Python
        stack must be as deep as a single job's, for the same recursion limit."""
        while len(self.children) >= self.cfg.warm_max:
            self.drop(next(iter(self.children.values())))
        build = None
        exe_fd = None
        preload: list[str] | None = []
        if program.language == "cpp":
            if self.cfg.read_only_cache:
                exe_fd, build = _open_build(program.hash, program.source, self.cfg)
            else:
                exe_fd = os.open(_binary(program.hash, program.source, self.cfg), os.O_RDONLY)
        else:
            imports, shareable = program_imports(program.source)
            # A child per run imports nothing ahead: it looks as fresh as can be.
            preload = sorted(imports | self.learned.get(program.hash, set())) if shareable else None
        stdin = os.memfd_create("stdin")
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        go_r, go_w = os.pipe()
        done_r, done_w = os.pipe()
        theirs = (stdin, out_w, err_w, go_r, done_w) + (() if exe_fd is None else (exe_fd,))
        runner_pid = os.getpid()
        try:
            pid = os.fork()
            if pid == 0:
                _warm_child(program, theirs, limits, self.cfg, runner_pid, preload)
        except BaseException:
            for fd in (stdin, out_r, err_r, go_w, done_r):
                os.close(fd)
            raise
        finally:
            for fd in (out_w, err_w, go_r, done_w) + (() if exe_fd is None else (exe_fd,)):
                os.close(fd)
        child = WarmChild(pid, program.language, stdin, out_r, err_r, go_w, done_r)
        self.children[(program.language, program.hash, limits)] = child
        return child, build

    def drop(self, child: WarmChild) -> None:
        for key, known in list(self.children.items()):
            if known is child:
                del self.children[key]
        child.close()

    def release(self) -> None:
        """Ends every warm child (the runner is idle): nothing of a job outlives its work."""
        for child in self.children.values():
            _kill_group(child.pid)  # all at once, then reaped one by one
        for child in list(self.children.values()):
            self.drop(child)
        if self.cfg.uid is not None and _has_children():
            _sweep(self.cfg.uid)

    def tidy(self, child: WarmChild) -> None:
        """After a run: anything left running that is not a warm child is killed, and so is the
        child the run used when the leftovers may be its run's. Checked from the runner's side,
        so a run cannot hide them by subverting its child's own checks."""
        if not self._leftovers(child):
            return
        self.drop(child)
        _sweep(self.cfg.uid, keep=self.pids())
        self.pids_baseline = self.fences.pids.integer(self.pids_baseline)
        if self.pids_baseline is not None:
            self.pids_baseline -= len(self.children)

    def _leftovers(self, child: WarmChild) -> bool:
        if self.cfg.pids_current is not None and self.pids_baseline is not None:
            count = self.fences.pids.integer()
            expected = self.pids_baseline + len(self.children)
            if count is not None and count < expected:
                self.pids_baseline = count - len(self.children)
            return count is None or count > expected
        mine = _pids_in(self.own_children)
        if mine is None or not mine <= self.pids():
            return True
        if child.alive:
            theirs = _pids_in(child.children)
            return theirs is None or bool(theirs)
        return False


def _children_file(pid: int) -> str:
    """Where the kernel lists the children of pid's main thread (the runner and its children
    are single-threaded when idle)."""
    return f"/proc/{pid}/task/{pid}/children"


def _pids_in(held: HeldFile) -> set[int] | None:
    """The pids a children file lists, or None when the kernel does not say."""
    text = held.read()
    try:
        return None if text is None else {int(p) for p in text.split()}
    except ValueError:
        return None


def _warm_step(warm: Warm, program: Program, stdin: bytes, limits: Limits) -> Outcome:
    """One run of a program through its warm child; the child is replaced after a run that
    left it unfit to serve the next (the run's result stands)."""
    build = None
    child = warm.ready(program, limits)
    if child is None:
        try:
            child, build = warm.make(program, limits)
        except CompileError as exc:
            return Outcome("compile-error", None, "", str(exc), exc.wall_s, exc.cpu_s, exc.build)
    processes = limits.processes + len(warm.children) - 1 if warm.cfg.uid is not None else None
    outcome, keep, imported = _run_in(child, stdin, limits, processes)
    if imported:
        warm.learned.setdefault(program.hash, set()).update(
            name for name in imported if name.split(".")[0] in _stdlib() - NO_PRELOAD
        )
    if not keep:
        warm.drop(child)
    warm.tidy(child)
    return dataclasses.replace(outcome, build=build) if build else outcome


def _run_in(
    child: WarmChild, stdin: bytes, limits: Limits, processes: int | None
) -> tuple[Outcome, bool, list[str]]:
    """Sends one run to the child and supervises it as _run does a forked job: the wall
    deadline and the output limit end the child; its answer, or its death, ends the run."""
    os.ftruncate(child.stdin, 0)
    if stdin:
        os.pwrite(child.stdin, stdin, 0)
    child.runs += 1
    order = {"run": child.runs, "cpu_s": limits.cpu_s, "processes": processes}
    capture = Capture(child.out, child.err, limits.output_bytes)
    start = time.monotonic()
    with suppress(OSError):  # the child is gone: its death is read below
        os.write(child.go, json.dumps(order).encode() + b"\n")
    killed_for, report = _pump_warm(child, capture, start + limits.wall_s)
    wall_s = time.monotonic() - start
    keep = report is not None and not report.get("discard") and child.alive
    if report is None:  # the child died, or was killed
        _kill_group(child.pid)
        _, wait_status, usage = os.wait4(child.pid, 0)
        child.alive = False
        cpu_s = max(0.0, usage.ru_utime + usage.ru_stime - child.cpu_s)
        capture.drain()
        exit_code = os.waitstatus_to_exitcode(wait_status)
    else:
        capture.drain()
        cpu_s = float(report.get("cpu_s", 0.0))
        if child.language == "python":
            exit_code = int(report.get("exit_code", 1))
            child.cpu_s += cpu_s
            keep = keep and child.cpu_s + limits.cpu_s + 1 < _cpu_budget(limits)
        else:
            exit_code = os.waitstatus_to_exitcode(int(report.get("wait_status", 0)))
            keep = keep and float(report.get("own_cpu_s", 0.0)) < limits.cpu_s / 2
    status, exit_code = _classify(exit_code, cpu_s, limits, killed_for, capture)
    outcome = Outcome(
        status, exit_code, capture.stdout_text(), capture.stderr_text(), wall_s, cpu_s
    )
    return outcome, keep, list(report.get("imported") or ()) if report else []


def _pump_warm(
    child: WarmChild, capture: Capture, deadline: float
) -> tuple[str | None, dict[str, Any] | None]:
    """Reads the run's output until the child reports or dies; kills it at the wall deadline
    or past the output limit. A report that is not this run's (a program may write into its
    child's own report pipe) counts as the child's death."""
    poller = select.poll()
    for fd in (child.pidfd, child.done, capture.out_fd, capture.err_fd):
        poller.register(fd, select.POLLIN)
    killed_for = None
    reported = bytearray()
    while True:
        remaining = min(max(0.0, deadline - time.monotonic()), POLL_MAX_S)
        events = poller.poll(None if killed_for else math.ceil(remaining * 1000))
        if not events and time.monotonic() >= deadline:
            _kill_group(child.pid)
            killed_for = "timeout"
        for fd, _ in events:
            if fd == child.pidfd:
                return killed_for, None
            if fd == child.done:
                data = os.read(fd, READ_CHUNK)
                reported += data
                if not data or (b"\n" in reported and killed_for is None):
                    report = _report(reported, child.runs)
                    if report is None:  # ends as a job killed by a signal: runtime-error
                        _kill_group(child.pid)
                        poller.unregister(fd)
                        continue
                    return None, report
                if not data:
                    poller.unregister(fd)
            elif not capture.read(fd):
                poller.unregister(fd)
        if capture.overflow and not killed_for:
            _kill_group(child.pid)
            killed_for = "output-limit"


def _report(data: bytearray, run: int) -> dict[str, Any] | None:
    line, newline, rest = bytes(data).partition(b"\n")
    if not newline or rest:
        return None
    try:
        report = json.loads(line)
    except ValueError:
        return None
    return report if isinstance(report, dict) and report.get("run") == run else None


# --- the worker loop ----------------------------------------------------------------------


def execute(request: Request, cfg: Config) -> Outcome:
    stdin = request.stdin.encode()
    if request.language == "python":
        with _job_dir(cfg) as work:
            return _run(work, partial(_become_python, request.source), stdin, request.limits, cfg)
    build = None
    try:
        if cfg.read_only_cache:
            exe_fd, build = _open_build(request.hash, request.source, cfg)
        else:
            # Opened as root: the job uid may not reach the cache.
            exe_fd = os.open(_binary(request.hash, request.source, cfg), os.O_RDONLY)
    except CompileError as exc:
        return Outcome("compile-error", None, "", str(exc), exc.wall_s, exc.cpu_s, exc.build)
    try:
        with _job_dir(cfg) as work:
            become = partial(_become_exec, EXE_FD, ("program",))
            outcome = _run(work, become, stdin, request.limits, cfg, exe_fd)
    finally:
        os.close(exe_fd)
    return dataclasses.replace(outcome, build=build) if build else outcome


def _error(job_id: Any, message: str) -> dict[str, Any]:
    return Outcome("runtime-error", None, "", message, 0.0, 0.0).to_wire(job_id)


def handle(line: bytes, cfg: Config) -> dict[str, Any]:
    """One request line in, one result out; nothing a request does stops the runner."""
    try:
        request = Request.parse(line)
    except BadRequest as exc:
        return _error(exc.job_id, f"malformed request: {exc}")
    try:
        return execute(request, cfg).to_wire(request.id)
    except Exception as exc:
        return _error(request.id, f"sandbox error: {exc!r}")


@dataclasses.dataclass(frozen=True)
class Step:
    """One program run of a batch; a step after the first reads ``field`` of the JSON object
    the step before it printed, as its stdin."""

    program: Program
    stdin: str
    field: str | None
    limits: Limits


@dataclasses.dataclass(frozen=True)
class Batch:
    id: Any
    runs: list[list[Step]]
    #: False: the host has nothing more queued; the warm children end before the last answer.
    keep_warm: bool

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Batch:
        programs = data.get("programs")
        runs = data.get("runs")
        if not isinstance(programs, list) or not isinstance(runs, list) or not runs:
            raise BadRequest("a batch needs programs and runs lists", data.get("id"))
        try:
            known = [Program.from_wire(p) for p in programs]
            parsed = [
                [
                    Step(
                        known[step["program"]],
                        step.get("stdin") or "",
                        step.get("field") if i else None,
                        Limits.from_wire(step.get("limits")),
                    )
                    for i, step in enumerate(run["steps"])
                ]
                for run in runs
            ]
        except BadRequest as exc:
            exc.job_id = data.get("id")
            raise
        except (KeyError, IndexError, TypeError) as exc:
            raise BadRequest(f"malformed batch: {exc!r}", data.get("id")) from None
        if not all(parsed) or not all(isinstance(s.stdin, str) for run in parsed for s in run):
            raise BadRequest("every run needs steps with string stdin", data.get("id"))
        return cls(data.get("id"), parsed, data.get("keep_warm") is True)


def json_field(stdout: str, field: str) -> str | None:
    """``field`` of the JSON object a step printed, when it is a string: what a chain's next
    step reads (here, and where a host runs chains in rounds)."""
    try:
        value = json.loads(stdout).get(field)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def handle_batch(
    batch: Batch, cfg: Config, warm: Warm, reply: Callable[[dict[str, Any]], None]
) -> None:
    """Runs a batch's runs in order, each through the warm child of its program, and answers
    each run as it ends. A run after which the runner's surroundings must be replaced
    (``retire``) ends the batch: the runs after it are answered ``skipped``, for the host to
    send to a fresh runner."""
    oom_kills = warm.fences.oom_kills()
    for index, steps in enumerate(batch.runs):
        results: list[dict[str, Any]] = []
        retire = None
        stdin = steps[0].stdin
        for step in steps:
            if step.field is not None:
                fed = json_field(results[-1]["stdout"], step.field)
                if fed is None:
                    break
                stdin = fed
            try:
                answer = _warm_step(warm, step.program, stdin.encode(), step.limits).to_wire(None)
            except Exception as exc:
                answer = _error(None, f"sandbox error: {exc!r}")
            del answer["id"]
            oom_kills = warm.fences.after_job(answer, oom_kills)
            retire = answer.pop("retire", None) or retire
            results.append(answer)
            if answer["status"] != "ok" or retire:
                break
        if retire or (index == len(batch.runs) - 1 and not batch.keep_warm):
            warm.release()
        reply(
            {
                "id": batch.id,
                "run": index,
                "results": results,
                **({"retire": retire} if retire else {}),
            }
        )
        if retire:
            for later in range(index + 1, len(batch.runs)):
                reply({"id": batch.id, "run": later, "skipped": retire})
            return


def _fresh_run_dir(cfg: Config) -> None:
    """The batch's work dir, there and empty, whatever the last run did to it."""
    path = cfg.run_dir
    mode = 0o700 if cfg.uid is None else 0o755
    try:
        found: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        found = None
    if found is not None and not stat.S_ISDIR(found.st_mode):  # a link or file left by a run
        _remove(path)
        found = None
    if found is None:
        os.makedirs(path)
        if cfg.uid is not None and cfg.gid is not None:
            os.chown(path, cfg.uid, cfg.gid)
    elif names := os.listdir(path):
        os.chmod(path, 0o700)
        for name in names:
            _remove(os.path.join(path, name))
    elif stat.S_IMODE(found.st_mode) == mode:
        return
    os.chmod(path, mode)


class _Lines:
    """Request lines from an fd, with whether another is already waiting."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def next(self, timeout: float | None) -> bytes | None:
        """The next line (b"" at EOF), or None when none came within ``timeout``."""
        while (end := self.buffer.find(b"\n")) < 0:
            if timeout is not None and not select.select([self.fd], [], [], timeout)[0]:
                return None
            data = os.read(self.fd, READ_CHUNK)
            if not data:
                return b""
            self.buffer += data
        line = bytes(self.buffer[: end + 1])
        del self.buffer[: end + 1]
        return line


def _take_protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    """Moves the protocol off fds 0 and 1 onto private close-on-exec copies, so that no job
    (which gets fresh fds 0-2 and loses all others) and no stray print can reach it."""
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return requests, replies


def _oom_count(text: bytes | None) -> int | None:
    """The ``oom_kill`` count of a cgroup file (v1 memory.oom_control, v2 memory.events)."""
    for line in (text or b"").splitlines():
        key, _, value = line.partition(b" ")
        if key == b"oom_kill":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class HeldFile:
    """A kernel file (/proc, a cgroup's) opened once and read again from its start at each look,
    which costs a read where open, read and close cost a path walk and a file each time. Reads
    as None where it cannot be opened or read, as a missing file does."""

    def __init__(self, path: str | None) -> None:
        self.fd: int | None = None
        if path is not None:
            with suppress(OSError):
                self.fd = os.open(path, os.O_RDONLY)

    def read(self) -> bytes | None:
        if self.fd is None:
            return None
        try:
            return os.pread(self.fd, READ_CHUNK, 0)
        except OSError:
            return None

    def integer(self, default: int | None = None) -> int | None:
        """The number the file starts with (pids.current)."""
        try:
            return int((self.read() or b"").split()[0])
        except (ValueError, IndexError):
            return default

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _remove(path: str) -> None:
    """Removes a file or a tree of the runner's uid, whatever permissions a job left on it."""
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
        return
    os.chmod(path, 0o700)
    for root, dirs, _ in os.walk(path):  # top-down: a dir is opened up before it is entered
        for name in dirs:
            if not os.path.islink(os.path.join(root, name)):
                os.chmod(os.path.join(root, name), 0o700)
    shutil.rmtree(path)


def _scrub(cfg: Config) -> None:
    """Empties the --scrub dirs and the work dir (but for the batches' run dir, which
    _fresh_run_dir empties), and restores the work dir: a job running under the runner's own
    uid may have written, or changed, anything in them."""
    for top in cfg.scrub:
        for name in os.listdir(top):
            if os.path.join(top, name) != cfg.work_dir:
                _remove(os.path.join(top, name))
    if os.path.islink(cfg.work_dir) or not os.path.isdir(cfg.work_dir):
        with suppress(FileNotFoundError):
            _remove(cfg.work_dir)
        os.makedirs(cfg.work_dir)
    os.chmod(cfg.work_dir, 0o711)
    for name in os.listdir(cfg.work_dir):
        path = os.path.join(cfg.work_dir, name)
        if path != cfg.run_dir or os.path.islink(path) or not os.path.isdir(path):
            _remove(path)  # the run dir itself is kept, and emptied by _fresh_run_dir


#: Where the kernel lists the IPC objects of the runner's IPC namespace (a container's own):
#: they outlive the job that made them, and the next job could read them.
SYSV_IPC = ("/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem")
MQUEUE_DIR = "/dev/mqueue"


#: inotify (linux/inotify.h): what a watch on a dir reports. Entries created, removed, moved
#: in or out, written or changed (mode, owner, times), the dir itself changed, removed or moved
#: away, and, always, the kernel's queue overflowing: any of them sends the runner to look.
IN_MODIFY, IN_ATTRIB, IN_MOVED_FROM, IN_MOVED_TO = 0x2, 0x4, 0x40, 0x80
IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF = 0x100, 0x200, 0x400, 0x800
IN_ONLYDIR, IN_DONT_FOLLOW = 0x01000000, 0x02000000
WATCH_MASK = (IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE) | (
    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW
)


class Fences:
    """What the runner checks after every job, kept open between jobs: the cgroup's OOM and
    task counts and the IPC namespace's SysV objects are files read again from their start,
    and the dirs a job can write (the run dir, the work dir, the --scrub dirs, the POSIX
    message queues) are watched through inotify. After a job that changed none of those dirs,
    one read that finds no event stands in for listing each of them, emptying the run dir and
    restoring the work dir; after any event, or where inotify is missing, every dir is looked
    at as before and the watches are set again. Jobs never see these fds: a job child and a
    warm child close every fd they do not need."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.oom = HeldFile(cfg.oom_events)
        self.pids = HeldFile(cfg.pids_current)
        self.sysv = [HeldFile(path) for path in SYSV_IPC] if cfg.scrub else []
        watched = [cfg.run_dir]
        if cfg.scrub:
            watched += [*cfg.scrub, cfg.work_dir]
            if os.path.isdir(MQUEUE_DIR):
                watched.append(MQUEUE_DIR)
        self.watched = watched
        self.inotify = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        #: Whether every dir is watched since the runner last looked at all of them.
        self.armed = False

    def oom_kills(self) -> int | None:
        return _oom_count(self.oom.read())

    def unchanged(self) -> bool:
        """No watched dir changed since the watches were set (inotify's queue is empty)."""
        if not self.armed:
            return False
        try:
            os.read(self.inotify, READ_CHUNK)
        except BlockingIOError:
            return True
        except OSError:
            pass
        self.armed = False  # the rest of the queue is dropped when the watches are set again
        return False

    def arm(self) -> None:
        """Watches every dir by its path (a job may have put another in its place), then drops
        the events of the runner's own clean-up, which came after every process of the job had
        ended."""
        if self.inotify < 0:
            return
        for path in self.watched:
            if _libc.inotify_add_watch(self.inotify, os.fsencode(path), WATCH_MASK) < 0:
                self.armed = False
                return
        while True:
            try:
                os.read(self.inotify, READ_CHUNK)
            except BlockingIOError:
                break
            except OSError:
                return
        self.armed = True

    def ipc_left(self, look_at_queues: bool) -> str:
        """What IPC objects exist (none: ""): SysV shared memory, message queues or semaphores,
        and, when asked, POSIX message queues where their filesystem is mounted."""
        left = []
        for path, held in zip(SYSV_IPC, self.sysv, strict=True):
            text = held.read()
            if text is not None and text.count(b"\n") > 1:  # a header line, then one per object
                left.append("SysV " + os.path.basename(path))
        with suppress(OSError):
            if look_at_queues and os.listdir(MQUEUE_DIR):
                left.append("POSIX message queues")
        return ", ".join(left)

    def after_job(self, answer: dict[str, Any], oom_kills: int | None) -> int | None:
        """Marks a job the kernel's OOM killer hit as "memory", and leaves the run dir empty
        and the scrubbed dirs clean; either, or IPC objects left behind, asks the host to retire
        the runner's surroundings (the container), which may no longer be clean. Returns the
        OOM count now: the next run of a batch starts from it."""
        now = self.oom_kills()
        if oom_kills is not None and now is not None and now > oom_kills:
            answer["status"] = "memory"
            answer["stderr"] = (
                answer.get("stderr", "") + "\n[killed by the kernel: the sandbox's memory limit]"
            ).lstrip("\n")
            answer["retire"] = "the kernel's OOM killer ran"
        unchanged = self.unchanged()
        if self.cfg.scrub:
            if not unchanged:
                try:
                    _scrub(self.cfg)
                except (
                    Exception
                ) as exc:  # a tree too deep for os.walk, a file it could not remove...
                    answer["retire"] = f"could not clean up after the job: {exc!r}"
            if left := self.ipc_left(look_at_queues=not unchanged):
                answer["retire"] = f"the job left {left}, which only a new container removes"
        if not unchanged:
            _fresh_run_dir(self.cfg)
            self.arm()
        return now


def _reply(stream: BinaryIO, message: dict[str, Any]) -> None:
    stream.write(json.dumps(message).encode() + b"\n")
    stream.flush()


def _on_sigterm(signum: int, frame: types.FrameType | None) -> None:
    """Unwinds through the running job's cleanup (kill, sweep, remove its dir) before exiting,
    once: a second SIGTERM must not cut that cleanup short."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)


@contextmanager
def _work_root(path: str | None) -> Iterator[str]:
    """The parent of the job dirs: made traversable (0711) so a job uid can reach its own dir."""
    own = path is None
    root = tempfile.mkdtemp(prefix="scaler-runner-") if path is None else path
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o711)
    try:
        yield root
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="scaler sandbox runner (JSON lines on stdio)")
    parser.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "scaler-cache"))
    parser.add_argument("--work-dir", help="parent of the per-job dirs (default: a fresh temp dir)")
    parser.add_argument("--uid", type=int, help="run jobs as this uid (root only)")
    parser.add_argument("--gid", type=int, help="run jobs as this gid (root only)")
    parser.add_argument(
        "--undumpable",
        action="store_true",
        help="keep jobs of the runner's own uid out of its fds and memory (/proc, ptrace)",
    )
    parser.add_argument(
        "--read-only-cache",
        action="store_true",
        help="never write the cache dir: compile a missing program into memory, hand it back",
    )
    parser.add_argument(
        "--scrub",
        action="append",
        default=[],
        metavar="DIR",
        help="empty DIR (and the work dir) after every job (repeatable)",
    )
    parser.add_argument(
        "--warm-max",
        type=int,
        default=WARM_MAX,
        metavar="N",
        help="warm children kept at most (each is a process of the job uid or container)",
    )
    parser.add_argument(
        "--pids-current",
        metavar="FILE",
        help="the cgroup file counting the container's tasks: leftovers of a run show there",
    )
    parser.add_argument(
        "--oom-events",
        metavar="FILE",
        help="the cgroup file counting OOM kills (oom_kill N): jobs it counts end with memory",
    )
    args = parser.parse_args(argv)
    if (args.uid is None) != (args.gid is None):
        parser.error("--uid and --gid go together")
    if args.uid is not None and os.geteuid() != 0:
        parser.error("--uid/--gid need root")
    return args


def _serve(lines: _Lines, cfg: Config, warm: Warm, replies: BinaryIO) -> None:
    """Answers requests until EOF; warm children are ended when the runner idles."""
    while (line := lines.next(WARM_IDLE_S if warm.children else None)) != b"":
        if line is None:  # idle: nothing of a job outlives its work for long
            warm.release()
            continue
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("release") is True:
            warm.release()
            _reply(replies, {"id": data.get("id"), "released": True})
            continue
        if isinstance(data, dict) and "runs" in data:
            try:
                batch = Batch.from_dict(data)
            except BadRequest as exc:
                _reply(replies, {"id": exc.job_id, "error": f"malformed request: {exc}"})
                continue
            handle_batch(batch, cfg, warm, partial(_reply, replies))
            continue
        warm.release()  # a single job sweeps everything a job left, warm children too
        oom_kills = warm.fences.oom_kills()
        answer = handle(line, cfg)
        warm.fences.after_job(answer, oom_kills)  # the next batch finds the run dir empty
        _reply(replies, answer)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    requests, replies = _take_protocol_streams()
    # Jobs must not import modules that sit beside the runner.
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != RUNNER_DIR]
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.geteuid() == 0:
        _libc.unshare(CLONE_NEWNET)  # on failure jobs keep the network; nothing else changes
    if args.undumpable and _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")
    signal.signal(signal.SIGTERM, _on_sigterm)
    if not args.read_only_cache:
        os.makedirs(args.cache_dir, exist_ok=True)
    with _work_root(args.work_dir) as work_dir:
        cfg = Config(
            os.path.abspath(args.cache_dir),
            os.path.abspath(work_dir),
            args.uid,
            args.gid,
            args.read_only_cache,
            tuple(os.path.abspath(d) for d in args.scrub),
            args.oom_events,
            args.pids_current,
            max(1, args.warm_max),
        )
        if cfg.uid is not None:
            _sweep(cfg.uid)  # leftovers of a previous runner that used this uid
        _reply(replies, {"ready": True, "pid": os.getpid(), "protocol": PROTOCOL})
        warm = Warm(cfg, Fences(cfg))
        lines = _Lines(requests.fileno())
        _fresh_run_dir(cfg)
        # A runner that ends (EOF, SIGTERM) reaps its warm children: no zombie of a job uid is
        # left for init to reap, counted meanwhile by that uid's process limit. The host's
        # SIGTERM follows its EOF at once and may land as the loop ends, even inside the inner
        # finally: the outer one still releases, and the handler lets no second one through.
        try:
            try:
                _serve(lines, cfg, warm, replies)
            finally:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
        finally:
            warm.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Start and talk to the sandbox's warm parent (the zygote) from the trusted worker.

The zygote runs under bubblewrap, started with `subprocess` (Celery's prefork workers
are daemonic, so `multiprocessing` children are not an option): new user, PID, IPC, UTS,
cgroup and network namespaces (the network namespace is created once, here, not per
child), an empty environment, no /proc, read-only system directories, the Python
standard library and numpy bound read-only, no project files but the two sandbox
modules, and size-capped tmpfs scratch directories. If bubblewrap or user namespaces
are missing, grading refuses to run; only the explicitly named development setting
GRADER_ALLOW_UNSANDBOXED runs the same zygote without bubblewrap, with a loud warning.

Each job is a small JSON frame on the zygote's stdin plus a JobArea: a fresh memfd with
the input arrays, passed over a Unix socket, that the child also writes its output
arrays into. Arrays are copied once each way, not through pipes.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
# Called (in the trusted worker) each time a zygote that had run is started again because it
# died or broke; operations count these (quizsite/ops/worker_signals.py).
restart_listeners: list[Callable[[], None]] = []

SANDBOX_DIR = Path(__file__).resolve().parent
SANDBOX_FILES = ("zygote.py", "harness.py")
INSIDE_CODE = "/opt/sandbox"
INSIDE_SITE = "/opt/sandbox-site"
START_TIMEOUT = 30.0
MAX_RESPONSE_HEADER = 16 * 1024 * 1024
ARRAY_ALIGNMENT = 64


class SandboxUnavailable(RuntimeError):
    """The isolation grading needs is missing on this machine; nothing was run."""


class SandboxBroken(RuntimeError):
    """The zygote died or answered outside the protocol; it is restarted on next use."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use."""

    wall_seconds: float = 10.0
    cpu_seconds: int = 5
    memory_bytes: int = 1024 * 1024 * 1024
    file_bytes: int = 16 * 1024 * 1024
    output_bytes: int = 1024 * 1024
    result_bytes: int = 64 * 1024 * 1024
    # Python's own default depth; the learner's code cannot raise it. With Python calls
    # kept off the C stack (3.11+), only this limit stops runaway recursion quickly: the
    # memory limit would take seconds. The stack limit keeps C recursion from depending
    # on the host's `ulimit -s`.
    recursion_frames: int = 1000
    stack_bytes: int = 8 * 1024 * 1024

    def as_dict(self) -> dict[str, float]:
        """Return the limits as the zygote reads them."""
        return {
            "wall_seconds": self.wall_seconds,
            "cpu_seconds": self.cpu_seconds,
            "memory_bytes": self.memory_bytes,
            "file_bytes": self.file_bytes,
            "output_bytes": self.output_bytes,
            "result_bytes": self.result_bytes,
            "recursion_frames": self.recursion_frames,
            "stack_bytes": self.stack_bytes,
        }

    @property
    def memory_mb(self) -> int:
        """Return the memory limit in MB, as messages state it."""
        return self.memory_bytes // (1024 * 1024)


@dataclass
class RunOutcome:
    """What the zygote reported about one child: how it ended and its raw result frame."""

    status: str  # finished, timeout, output_limit, result_limit
    stdout: str
    stdout_bytes: int
    cpu_ms: float
    wall_ms: float
    exit_code: int | None = None
    signal: int | None = None
    result_frame: bytes = b""
    output_area: memoryview = field(default_factory=lambda: memoryview(b""))
    extra: dict[str, Any] = field(default_factory=dict)


def aligned(size: int) -> int:
    """Round `size` up to the alignment arrays get in the job area."""
    return -(-size // ARRAY_ALIGNMENT) * ARRAY_ALIGNMENT


class JobArea:
    """A fresh shared-memory file for one job: the input arrays, then room for the outputs.

    Arrays cross the sandbox boundary here instead of through pipes: the trusted side
    writes the inputs once, the child writes its outputs once, and the trusted side reads
    them in place. Every job gets a new memfd, so nothing one child wrote anywhere in it
    can reach the next; the zygote closes its copy when the child has ended, so once the
    outcome arrives only this (trusted) process holds it.
    """

    def __init__(self, arrays: list[np.ndarray], output_bytes: int) -> None:
        self.headers: list[dict[str, Any]] = []
        offset = 0
        for array in arrays:
            self.headers.append(
                {"dtype": array.dtype.str, "shape": list(array.shape), "offset": offset}
            )
            offset += aligned(array.nbytes)
        self.output_offset = offset
        self.output_bytes = output_bytes
        self.size = offset + output_bytes
        self.fd = os.memfd_create("grader-job", os.MFD_CLOEXEC)
        try:
            os.ftruncate(self.fd, max(self.size, 1))
            self.map = mmap.mmap(self.fd, max(self.size, 1))
        except OSError:
            os.close(self.fd)
            raise
        for array, header in zip(arrays, self.headers, strict=True):
            if array.nbytes:
                target = np.frombuffer(
                    self.map, dtype=array.dtype, count=array.size, offset=header["offset"]
                )
                target[...] = array.reshape(-1)

    def close_fd(self) -> None:
        """Close the file; the mapping stays until the last array read from it is gone."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def outputs(self) -> memoryview:
        """The part of the area the child's output arrays were written to."""
        return memoryview(self.map)[self.output_offset : self.size]


def _numpy_paths() -> list[tuple[str, str]]:
    site = Path(np.__file__).resolve().parent.parent
    binds = [(str(site / "numpy"), f"{INSIDE_SITE}/numpy")]
    if (site / "numpy.libs").is_dir():
        binds.append((str(site / "numpy.libs"), f"{INSIDE_SITE}/numpy.libs"))
    import pyseccomp

    binds.append((str(Path(pyseccomp.__file__).resolve()), f"{INSIDE_SITE}/pyseccomp.py"))
    return binds


def _python() -> str:
    return os.path.realpath(sys.executable)


SANDBOX_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/scratch",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    # OpenBLAS and friends start threads at import; the child may not create any.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def bwrap_command(bwrap: str) -> list[str]:
    """Return the bubblewrap command line that starts the zygote."""
    prefix = sys.base_prefix
    command = [
        bwrap,
        "--unshare-all",  # user, ipc, pid, net, uts, cgroup: no network, not even loopback
        "--die-with-parent",
        "--new-session",
        "--cap-drop", "ALL",
        "--uid", "65534",
        "--gid", "65534",
        "--hostname", "sandbox",
        "--clearenv",
        "--ro-bind", "/usr", "/usr",
        "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",  # finding libseccomp
        "--dev", "/dev",
        "--size", str(64 * 1024 * 1024), "--tmpfs", "/scratch",
        "--size", str(16 * 1024 * 1024), "--tmpfs", "/tmp",  # noqa: S108 - the sandbox's own tmpfs
        "--dir", INSIDE_CODE,
        "--dir", INSIDE_SITE,
    ]  # fmt: skip
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            command += ["--symlink", os.readlink(target), f"/{link}"]
        elif target.is_dir():
            command += ["--ro-bind", str(target), f"/{link}"]
    if not prefix.startswith("/usr/"):
        command += ["--ro-bind", prefix, prefix]
    for source, inside in _numpy_paths():
        command += ["--ro-bind", source, inside]
    for name in SANDBOX_FILES:
        command += ["--ro-bind", str(SANDBOX_DIR / name), f"{INSIDE_CODE}/{name}"]
    for key, value in SANDBOX_ENV.items():
        command += ["--setenv", key, value]
    # bwrap's root and /dev are writable tmpfs: freeze them, so only /scratch and /tmp
    # (wiped after every child) can be written.
    command += ["--remount-ro", "/dev", "--remount-ro", "/"]
    command += ["--chdir", "/scratch", _python(), "-I", "-S", "-B", f"{INSIDE_CODE}/zygote.py"]
    command += [INSIDE_CODE, INSIDE_SITE]
    return command


def _frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack(">I", len(encoded)) + encoded + struct.pack(">Q", len(payload)) + payload


def frame_parse(
    data: bytes, *, max_header: int = MAX_RESPONSE_HEADER
) -> tuple[dict[str, Any], bytes]:
    """Split one frame into its JSON header and payload; raise ValueError if malformed."""
    if len(data) < 12:
        raise ValueError("frame too short")
    (size,) = struct.unpack(">I", data[:4])
    if size > max_header or 4 + size + 8 > len(data):
        raise ValueError("frame header size out of range")
    header = json.loads(data[4 : 4 + size])
    if not isinstance(header, dict):
        raise ValueError("frame header is not an object")
    (payload_size,) = struct.unpack(">Q", data[4 + size : 12 + size])
    if 12 + size + payload_size != len(data):
        raise ValueError("frame payload size does not match")
    return header, data[12 + size :]


class SandboxParent:
    """One zygote, used by one trusted process, one submission at a time."""

    def __init__(self, *, allow_unsandboxed: bool = False) -> None:
        self.allow_unsandboxed = allow_unsandboxed
        self.process: subprocess.Popen[bytes] | None = None
        self._areas: socket.socket | None = None
        self.sandboxed = False
        self._lock = threading.Lock()
        self._started_before = False

    def command(self) -> list[str]:
        """Return the command that starts the zygote, or refuse if isolation is missing."""
        bwrap = shutil.which("bwrap")
        if bwrap is not None:
            return bwrap_command(bwrap)
        if not self.allow_unsandboxed:
            raise SandboxUnavailable(
                "Grading is refused: bubblewrap (bwrap) is not installed, so learner code "
                "cannot be isolated. Install it (apt-get install bubblewrap; `make run` does). "
                "GRADER_ALLOW_UNSANDBOXED=true exists for development only."
            )
        log.warning(
            "GRADER_ALLOW_UNSANDBOXED is on: learner code runs WITHOUT bubblewrap "
            "(only rlimits and seccomp). Never use this outside development."
        )
        site = str(Path(np.__file__).resolve().parent.parent)
        return [
            "env",
            "-i",
            "OPENBLAS_NUM_THREADS=1",
            _python(),
            "-I",
            "-S",
            "-B",
            str(SANDBOX_DIR / "zygote.py"),
            str(SANDBOX_DIR),
            site,
        ]

    def start(self) -> None:
        """Start the zygote and wait until it has warmed up."""
        command = self.command()
        self.sandboxed = command[0] != "env"
        # The job areas (memfds) travel over this socket; jobs and outcomes over the pipes.
        self._areas, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command.append(f"--areas-fd={theirs.fileno()}")
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={},
                pass_fds=(theirs.fileno(),),
            )
        finally:
            theirs.close()
        try:
            header, _ = self._receive(timeout=START_TIMEOUT)
        except SandboxBroken as error:
            stderr = self._stderr_excerpt()
            self.stop()
            raise SandboxUnavailable(
                f"The sandbox could not start: {error}. {stderr}".strip()
            ) from error
        if not header.get("ready"):
            self.stop()
            raise SandboxUnavailable(f"The sandbox answered {header!r} instead of ready")

    def _stderr_excerpt(self) -> str:
        if self.process is None or self.process.stderr is None:
            return ""
        if self.process.poll() is None:
            return ""
        return self.process.stderr.read(4000).decode("utf-8", "replace")

    def stop(self) -> None:
        """Stop the zygote (and with it any child)."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait(timeout=10)
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
        self.process = None
        if self._areas is not None:
            self._areas.close()
            self._areas = None

    def _receive(self, *, timeout: float) -> tuple[dict[str, Any], bytes]:
        assert self.process is not None
        assert self.process.stdout is not None
        stdout = self.process.stdout
        result: dict[str, Any] = {}

        def read() -> None:
            try:
                head = stdout.read(4)
                if len(head) < 4:
                    raise EOFError("the sandbox closed its output")
                (size,) = struct.unpack(">I", head)
                if size > MAX_RESPONSE_HEADER:
                    raise ValueError("response header too large")
                header = json.loads(stdout.read(size))
                (payload_size,) = struct.unpack(">Q", stdout.read(8))
                result["frame"] = (header, stdout.read(payload_size))
            except Exception as error:  # reported below as a broken sandbox
                result["error"] = error

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            self.stop()
            raise SandboxBroken(f"no answer from the sandbox within {timeout:.0f} s")
        if "error" in result:
            self.stop()
            raise SandboxBroken(str(result["error"]))
        header, payload = result["frame"]
        return header, payload

    def run(
        self, code: str, plan: dict[str, Any], arrays: list[np.ndarray], limits: Limits
    ) -> RunOutcome:
        """Run `code` on `plan` in a fresh child; restart the zygote if it is gone."""
        with self._lock:
            if self.process is None or self.process.poll() is not None:
                self.stop()
                self.start()
                if self._started_before:
                    for listener in restart_listeners:
                        listener()
                self._started_before = True
            assert self.process is not None
            assert self.process.stdin is not None
            assert self._areas is not None
            area = JobArea(arrays, limits.result_bytes)
            job = {
                "code": code,
                "plan": plan,
                "arrays": area.headers,
                "area": {"size": area.size, "output_offset": area.output_offset},
                "limits": limits.as_dict(),
            }
            try:
                socket.send_fds(self._areas, [b"J"], [area.fd])
                self.process.stdin.write(_frame(job))
                self.process.stdin.flush()
            except OSError as error:
                self.stop()
                raise SandboxBroken(f"could not send the job: {error}") from error
            finally:
                area.close_fd()
            header, payload = self._receive(timeout=limits.wall_seconds + 10)
            known = {"status", "stdout", "stdout_bytes", "cpu_ms", "wall_ms", "exit_code", "signal"}
            return RunOutcome(
                status=str(header.get("status")),
                stdout=str(header.get("stdout", "")),
                stdout_bytes=int(header.get("stdout_bytes", 0)),
                cpu_ms=float(header.get("cpu_ms", 0)),
                wall_ms=float(header.get("wall_ms", 0)),
                exit_code=header.get("exit_code"),
                signal=header.get("signal"),
                result_frame=payload,
                output_area=area.outputs(),
                extra={k: v for k, v in header.items() if k not in known},
            )


_process_parent: SandboxParent | None = None


def process_sandbox(*, allow_unsandboxed: bool = False) -> SandboxParent:
    """Return this process's zygote (one per Celery worker process), starting it once."""
    global _process_parent
    if _process_parent is None:
        _process_parent = SandboxParent(allow_unsandboxed=allow_unsandboxed)
    return _process_parent


def process_sandbox_stop() -> None:
    """Stop this process's zygote, if it was started."""
    global _process_parent
    if _process_parent is not None:
        _process_parent.stop()
        _process_parent = None

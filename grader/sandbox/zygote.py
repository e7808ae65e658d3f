"""The sandbox's warm parent: imports numpy once, then forks one child per submission.

Runs INSIDE bubblewrap (see grader/sandbox/parent.py for the namespaces, mounts and the
scrubbed environment) as `python -I -S zygote.py`. It never runs learner code itself:
each job is run by a fresh forked child that first drops everything it could misuse
(other file descriptors, resource limits, a seccomp filter that forbids new processes,
sockets, exec, ptrace, mounts and signals to other processes) and only then compiles
the learner's code. The parent watches the child with a wall-clock timer, caps what it
reads from it, reaps it, wipes the scratch directory, and answers the trusted worker.

Frames on stdin/stdout: 4-byte big-endian header length, JSON header, 8-byte payload
length, payload. Arrays do not travel in frames: with every job comes, over the socket
named by --areas-fd, a fresh memfd (the job area) holding the input arrays at the offsets
the job's header gives, followed by room the child writes its output arrays into. The
zygote closes its copy of the area once the child has ended.
"""

from __future__ import annotations

import builtins
import errno
import json
import mmap
import os
import resource
import select
import shutil
import signal
import socket
import struct
import sys
import time
from typing import Any

# `python -I` ignores PYTHONPATH: the import paths come as arguments.
sys.path[:0] = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
AREAS_FD = next(int(arg.split("=", 1)[1]) for arg in sys.argv if arg.startswith("--areas-fd="))
ARRAY_ALIGNMENT = 64

import harness  # type: ignore[import-not-found]  # noqa: E402 - beside this file in the sandbox
import numpy as np  # noqa: E402
import pyseccomp  # noqa: E402

SCRATCH_DIRS = ("/scratch", "/tmp")  # noqa: S108 - tmpfs private to the sandbox, wiped per child
OUTPUT_EXCERPT = 8 * 1024
RESULT_HEADER_BYTES = 4 * 1024 * 1024  # the child's JSON results; its arrays are in the area
DENIED_SYSCALLS = (
    # no new processes or threads, no other programs
    "clone", "clone3", "fork", "vfork", "execve", "execveat",
    # no looking into or changing other processes, the kernel or the mounts
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_getfd",
    "pidfd_send_signal", "mount", "umount2", "unshare", "setns", "pivot_root", "chroot",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "kexec_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "syslog", "acct", "quotactl", "setpriority",
    "sched_setaffinity", "setsid", "setpgid", "personality",
    # no network at all (the namespace has none either)
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg",
)  # fmt: skip
SIGNAL_SYSCALLS = ("kill", "tkill", "tgkill")


def _read_exact(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack(">I", len(encoded)) + encoded + struct.pack(">Q", len(payload)) + payload


def _read_frame(fd: int) -> tuple[dict[str, Any], bytes]:
    (size,) = struct.unpack(">I", _read_exact(fd, 4))
    header = json.loads(_read_exact(fd, size))
    (payload_size,) = struct.unpack(">Q", _read_exact(fd, 8))
    return header, _read_exact(fd, payload_size)


def _arrays(headers: list[dict[str, Any]], area: mmap.mmap) -> list[np.ndarray]:
    """Views of the input arrays in the job area (the trusted side wrote them there)."""
    arrays = []
    for header in headers:
        dtype = np.dtype(header["dtype"])
        count = int(np.prod(header["shape"], dtype=np.int64))
        if count == 0:
            array = np.zeros(0, dtype=dtype)
        else:
            array = np.frombuffer(area, dtype=dtype, count=count, offset=header["offset"])
        array.flags.writeable = False
        arrays.append(array.reshape(header["shape"]))
    return arrays


def _outputs_write(
    outputs: list[np.ndarray], area: mmap.mmap, base: int
) -> list[dict[str, Any]] | None:
    """Copy the child's output arrays into the job area after `base`; None if they do not
    fit. The headers' offsets count from `base`."""
    headers = []
    offset = 0
    for array in outputs:
        if base + offset + array.nbytes > len(area):
            return None
        if array.size:
            target = np.frombuffer(area, dtype=array.dtype, count=array.size, offset=base + offset)
            target[...] = array.reshape(-1)
        headers.append({"dtype": array.dtype.str, "shape": list(array.shape), "offset": offset})
        offset += -(-array.nbytes // ARRAY_ALIGNMENT) * ARRAY_ALIGNMENT
    return headers


def _warm_up() -> None:
    """Touch the lazily imported paths once, so no child pays for them."""
    rng = np.random.default_rng(0)
    values = rng.random((8, 8), dtype=np.float64)
    (values.astype(np.float32) * (rng.random(values.shape) >= 0.5) / 0.5).sum()
    rng.standard_normal(4)
    rng.integers(0, 10, 4)
    np.testing  # noqa: B018 - imports numpy.testing's submodules some solutions touch
    json.dumps(
        harness.run_plan(
            {"f": lambda x: x}, {"calls": [{"function": "f", "args": [{"array": 0}]}]}, [values]
        )[0]
    )


def _seccomp_base() -> Any:
    """The filter every child loads, built once here (never loaded by the zygote itself);
    each child adds its own-pid signal rules to its copy and loads it."""
    seccomp = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        seccomp.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
    return seccomp


def _child(
    job: dict[str, Any],
    arrays: list[np.ndarray],
    area: mmap.mmap,
    seccomp: Any,
    result_w: int,
    output_w: int,
) -> None:
    """Run in the forked child: lock down, run the learner's code, send plain results."""
    try:
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        os.dup2(result_w, 3)
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)
        os.closerange(4, 1 << 16)  # the protocol pipes to the worker among them
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - lives as long as the child
        sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
        os.chdir("/scratch")
        limits = job["limits"]
        cpu = int(limits["cpu_seconds"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
        _, stack_hard = resource.getrlimit(resource.RLIMIT_STACK)
        stack = int(limits["stack_bytes"])
        if stack_hard != resource.RLIM_INFINITY:
            stack = min(stack, stack_hard)
        resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))
        _recursion_cap(int(limits["recursion_frames"]))
        me = os.getpid()  # seccomp: this child's copy of the zygote's prepared filter
        for name in SIGNAL_SYSCALLS:  # signals to itself only
            seccomp.add_rule(pyseccomp.ERRNO(errno.EPERM), name, pyseccomp.Arg(0, pyseccomp.NE, me))
        seccomp.load()
    except BaseException as error:  # isolation failed: say so and run nothing
        _write_all(3, _frame({"isolation_error": repr(error)}))
        os._exit(70)
    # Built now: with the memory exhausted there may be no room to build them then.
    exhausted = {
        (kind, during): _frame({"exhausted": {"kind": kind, "during": during}})
        for kind in ("memory", "recursion")
        for during in ("load", "run")
    }
    namespace: dict[str, Any] = {"__name__": "submission", "__builtins__": builtins}
    ran_out = ""
    try:
        code = compile(job["code"], "submission.py", "exec")
        exec(code, namespace)  # noqa: S102 - the sandbox exists to do exactly this
    except MemoryError:
        ran_out = "memory"
    except RecursionError:
        ran_out = "recursion"
    except BaseException as error:  # syntax errors, import-time crashes, SystemExit...
        _write_all(
            3,
            _frame(
                {"load_error": {"type": type(error).__name__, "message": harness._message(error)}}
            ),
        )
        os._exit(0)
    if ran_out:  # reported outside the except clause, whose traceback holds the memory
        _exhausted(exhausted[(ran_out, "load")], namespace)
    missing = harness.missing_functions(namespace, job["plan"])
    if missing:  # checked before any call: a missing function is not a wrong answer
        header = {"missing_functions": missing, "defined": harness.defined_functions(namespace)}
        _write_all(3, _frame(header))
        os._exit(0)
    results: list[dict[str, Any]] = []
    outputs: list[np.ndarray] = []
    room = len(area) - job["area"]["output_offset"]
    try:
        results, outputs = harness.run_plan(namespace, job["plan"], arrays, room)
    except harness.ResultTooLarge as error:
        _write_all(3, _frame({"result_too_large": error.nbytes}))
        os._exit(0)
    except MemoryError:
        ran_out = "memory"
    except RecursionError:
        ran_out = "recursion"
    if ran_out:
        _exhausted(exhausted[(ran_out, "run")], namespace)
    headers = _outputs_write(outputs, area, job["area"]["output_offset"])
    if headers is None:
        _write_all(3, _frame({"result_too_large": sum(a.nbytes for a in outputs)}))
    else:
        _write_all(3, _frame({"results": results, "arrays": headers}))
    os._exit(0)


def _recursion_cap(frames: int) -> None:
    """Set the recursion limit, and keep the learner's code from raising it: deep recursion
    then ends in a RecursionError at once, not in seconds of filling memory with frames."""
    set_limit = sys.setrecursionlimit
    set_limit(frames)

    def capped(limit: int) -> None:
        """Set the recursion limit, at most to the grader's."""
        set_limit(min(limit, frames))

    sys.setrecursionlimit = capped


def _exhausted(frame: bytes, namespace: dict[str, Any]) -> None:
    """Send the prepared report that the code ran out of memory or recursion depth (its
    module's globals dropped first, to make room), and end the child."""
    namespace.clear()
    _write_all(3, frame)
    os._exit(0)


def _wipe_scratch() -> None:
    for directory in SCRATCH_DIRS:
        for entry in os.listdir(directory):
            path = os.path.join(directory, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


def _supervise(
    pid: int, result_r: int, output_r: int, limits: dict[str, Any], started: float
) -> dict[str, Any]:
    """Watch the child until it ends or breaks a limit; return the outcome header."""
    deadline = started + limits["wall_seconds"]
    result = bytearray()
    output = bytearray()
    output_total = 0
    open_fds = {result_r, output_r}
    status = None
    while open_fds:
        left = deadline - time.monotonic()
        if left <= 0:
            status = "timeout"
            break
        ready, _, _ = select.select(list(open_fds), [], [], left)
        for fd in ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                open_fds.discard(fd)
            elif fd == output_r:
                output_total += len(chunk)
                if len(output) < OUTPUT_EXCERPT:
                    output.extend(chunk[: OUTPUT_EXCERPT - len(output)])
                if output_total > limits["output_bytes"]:
                    status = "output_limit"
            else:
                result.extend(chunk)
                if len(result) > RESULT_HEADER_BYTES:
                    status = "result_limit"
        if status:
            break
    if status:
        os.kill(pid, signal.SIGKILL)
    _, wait_status, usage = os.wait4(pid, 0)
    os.close(result_r)
    os.close(output_r)
    outcome: dict[str, Any] = {
        "status": status,
        "stdout": output.decode("utf-8", "replace"),
        "stdout_bytes": output_total,
        "cpu_ms": round((usage.ru_utime + usage.ru_stime) * 1000, 3),
        "wall_ms": round((time.monotonic() - started) * 1000, 3),
        "max_rss_kb": usage.ru_maxrss,
    }
    if os.WIFSIGNALED(wait_status):
        outcome["signal"] = os.WTERMSIG(wait_status)
    else:
        outcome["exit_code"] = os.WEXITSTATUS(wait_status)
    if status is None:
        outcome["status"] = "finished"
        outcome["_result"] = bytes(result)
    return outcome


def serve() -> None:
    """Answer jobs from stdin until it closes."""
    os.environ.clear()
    # Children must not be able to read or write this process through /proc or ptrace.
    import ctypes

    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4, value 0
    _warm_up()
    stdin, stdout = 0, 1
    _write_all(stdout, _frame({"ready": True, "pid": os.getpid(), "numpy": np.__version__}))
    areas = socket.socket(fileno=AREAS_FD)
    seccomp = _seccomp_base()
    while True:
        try:
            job, _ = _read_frame(stdin)
            _, fds, _, _ = socket.recv_fds(areas, 1, 1)
        except EOFError:
            return
        if len(fds) != 1:
            return
        outcome, child_frame = _run_job(job, fds[0], seccomp)
        _write_all(stdout, _frame(outcome, child_frame))


def _run_job(job: dict[str, Any], area_fd: int, seccomp: Any) -> tuple[dict[str, Any], bytes]:
    """Fork a child for one job, supervise it, and close every trace of it here.

    Returns the outcome header and the child's own result frame (empty unless it finished).
    """
    try:
        area = mmap.mmap(area_fd, job["area"]["size"])
    finally:
        os.close(area_fd)
    arrays = _arrays(job["arrays"], area)
    result_r, result_w = os.pipe()
    output_r, output_w = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(job, arrays, area, seccomp, result_w, output_w)
        os._exit(71)  # not reached
    os.close(result_w)
    os.close(output_w)
    outcome = _supervise(pid, result_r, output_r, job["limits"], started)
    del arrays  # the views into the area, so that it can be unmapped
    area.close()
    _wipe_scratch()
    child_frame = outcome.pop("_result", b"")
    return outcome, child_frame if outcome["status"] == "finished" else b""


if __name__ == "__main__":
    serve()

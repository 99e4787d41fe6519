"""Run external programs: argv lists only, a timeout, LC_ALL=C, and a record of
every call (argv, exit code, output, timing) in the current job's evidence.

Nothing else in bench imports subprocess. Tests swap the executor to replay
captured outputs (`use_executor`) so no real program runs by accident.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.errors import ToolMissing, ToolTimeout

#: program name -> Debian package that provides it (for "install X" hints).
DEBIAN_PACKAGE: dict[str, str] = {
    "hdparm": "hdparm",
    "nvme": "nvme-cli",
    "smartctl": "smartmontools",
    "blkdiscard": "util-linux",
    "lsblk": "util-linux",
    "losetup": "util-linux",
    "blockdev": "util-linux",
    "wipefs": "util-linux",
    "rtcwake": "util-linux",
    "adb": "adb",
    "idevice_id": "libimobiledevice-utils",
    "ideviceinfo": "libimobiledevice-utils",
    "idevicediagnostics": "libimobiledevice-utils",
    "idevicepair": "libimobiledevice-utils",
    "idevicerestore": "idevicerestore",
    "socat": "socat",
    "udevadm": "udev",
    "dmsetup": "dmsetup",
    "nwipe": "nwipe",
    "ledctl": "ledmon",
    "systemd-analyze": "systemd",
    "systemctl": "systemd",
    "pdftoppm": "poppler-utils",
    "qemu-system-x86_64": "qemu-system-x86",
}


def debian_package(program: str) -> str:
    name = os.path.basename(program)
    if name.startswith("sg_"):
        return "sg3-utils"
    return DEBIAN_PACKAGE.get(name, name)


@dataclass(frozen=True)
class Completed:
    """One finished program run, as recorded in evidence."""

    argv: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str
    started: str  # UTC ISO-8601
    ended: str
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["argv"] = list(self.argv)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Completed:
        return cls(**{**d, "argv": tuple(d["argv"])})


@dataclass
class Evidence:
    """Every command run while this evidence is current, in order. Thread-safe."""

    commands: list[Completed] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, completed: Completed) -> None:
        with self._lock:
            self.commands.append(completed)

    def to_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [c.to_dict() for c in self.commands]


_current: contextvars.ContextVar[Evidence | None] = contextvars.ContextVar("bench_evidence", default=None)


@contextlib.contextmanager
def collecting(evidence: Evidence | None = None) -> Iterator[Evidence]:
    """Make `evidence` (or a new one) the current evidence for this thread/context."""
    ev = evidence if evidence is not None else Evidence()
    token = _current.set(ev)
    try:
        yield ev
    finally:
        _current.reset(token)


def current_evidence() -> Evidence | None:
    return _current.get()


# An executor takes (argv, timeout, input, env) and returns (rc, stdout, stderr, timed_out).
Executor = Callable[[Sequence[str], float, bytes | None, Mapping[str, str]], tuple[int, bytes, bytes, bool]]


def _subprocess_executor(
    argv: Sequence[str], timeout: float, input: bytes | None, env: Mapping[str, str]
) -> tuple[int, bytes, bytes, bool]:
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise ToolMissing(
            f"{argv[0]} is not installed",
            hint=f"install it with: apt-get install {debian_package(argv[0])}",
        ) from exc
    except PermissionError as exc:
        raise ToolMissing(f"{argv[0]} cannot be executed: {exc.strerror}", hint="run bench as root") from exc
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
        return proc.returncode, out, err, False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            # A process stuck in uncommunicative kernel I/O (a hung drive) survives SIGKILL until
            # the I/O returns; never let it hang the job thread: leave it to the kernel.
            for pipe in (proc.stdout, proc.stderr, proc.stdin):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
            out, err = b"", b"(process did not exit after SIGKILL: the device is probably hung)"
        return -9, out or b"", err or b"", True


_executor: Executor = _subprocess_executor
_executor_lock = threading.Lock()


@contextlib.contextmanager
def use_executor(executor: Executor) -> Iterator[None]:
    """Replace how programs are started (tests replay captured outputs through this)."""
    global _executor
    with _executor_lock:
        previous, _executor = _executor, executor
    try:
        yield
    finally:
        with _executor_lock:
            _executor = previous


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def which(program: str) -> str | None:
    return shutil.which(program)


def run(
    argv: Sequence[str],
    *,
    timeout: float = 60.0,
    input: bytes | str | None = None,
    env: Mapping[str, str] | None = None,
    raise_on_timeout: bool = False,
) -> Completed:
    """Run `argv` (no shell), record it in the current evidence and return the result.

    A non-zero exit is *not* an exception: callers decide what an exit code means,
    because many tools lie (hdparm exits 0 when the drive aborted the erase).
    A missing program raises ToolMissing naming the Debian package.
    """
    if isinstance(argv, (str, bytes)):
        raise TypeError("run() takes an argv list, never a shell string")
    argv = tuple(str(a) for a in argv)
    full_env = {**os.environ, "LC_ALL": "C", "LANG": "C", **(env or {})}
    data = input.encode() if isinstance(input, str) else input
    started, t0 = _now(), time.monotonic()
    rc, out, err, timed_out = _executor(argv, timeout, data, full_env)
    completed = Completed(
        argv=argv,
        rc=rc,
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        started=started,
        ended=_now(),
        seconds=round(time.monotonic() - t0, 4),
        timed_out=timed_out,
    )
    ev = current_evidence()
    if ev is not None:
        ev.add(completed)
    if timed_out and raise_on_timeout:
        raise ToolTimeout(f"{argv[0]} did not finish within {timeout:g} s", hint="the device may be hung: re-plug it")
    return completed

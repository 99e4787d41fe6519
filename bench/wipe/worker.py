"""One wipe job in its own process: forked from the supervising engine, it runs the JobRunner
and streams progress and the finished payload back over a socket pair.

Why a process per drive: the overwrite, the PRNG and the verify comparison then never share an
interpreter lock with another drive or with the screen, and a drive whose I/O never returns
(a hung disk) blocks only its own process, which the engine can give up on and leave to the
kernel. The store is never touched here: the parent writes both records of a job.

Why fork and not spawn: the job context carries the plan, the config and the seams tests inject
(firmware, recheck), which fork hands over as they are, and a forked worker starts in
milliseconds sharing the parent's imported code (16 spawned interpreters would cost ~40 MB each).

Messages, child -> parent (pickled tuples):
    ("progress", phase, bytes_done, bytes_total, bytes_written)
    ("log", levelno, logger_name, message)
    ("result", payload, evidence)
parent -> child:
    ("cancel",)
End of file from the parent (it died) cancels the job too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from bench.tools import runner
from bench.wipe.job import JobContext, JobRunner

log = logging.getLogger(__name__)
SEND_INTERVAL = 0.1  # seconds between progress messages (phase changes and phase ends always go)

# Parent ends of every live worker's socket in this process: a newly forked worker closes the
# others', so each worker sees end-of-file when the parent (and only the parent) goes away.
_parent_ends: set[int] = set()
_fork_lock = threading.Lock()


@dataclass
class Worker:
    pid: int
    conn: Connection

    def send_cancel(self) -> None:
        with contextlib.suppress(OSError):  # already gone: the supervisor sees end-of-file
            self.conn.send(("cancel",))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        with _fork_lock:
            _parent_ends.discard(self.conn.fileno())
        self.conn.close()


def spawn(ctx: JobContext) -> Worker:
    """Fork the worker for `ctx` and return the parent's handle. Raises OSError when the
    process cannot be created (the caller records the job as failed)."""
    with _fork_lock:  # no other worker may be forked while both ends are open here
        parent_sock, child_sock = socket.socketpair()
        try:
            pid = os.fork()
        except OSError:
            parent_sock.close()
            child_sock.close()
            raise
        if pid == 0:  # the child: never returns
            parent_sock.close()
            for fd in _parent_ends:
                with contextlib.suppress(OSError):
                    os.close(fd)
            _child_main(ctx, Connection(child_sock.detach()))
        child_sock.close()
        conn = Connection(parent_sock.detach())
        _parent_ends.add(conn.fileno())
    return Worker(pid, conn)


def _child_main(ctx: JobContext, conn: Connection) -> None:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the supervisor, which cancels
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        send = _sender(conn)
        _log_to_parent(send)
        _run(ctx, conn, send)
    except BaseException:
        code = 1
        with contextlib.suppress(BaseException):
            log.exception("wipe worker failed")
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers a second time


def _sender(conn: Connection) -> Callable[[tuple[Any, ...]], None]:
    lock = threading.Lock()

    def send(msg: tuple[Any, ...]) -> None:
        with lock:
            conn.send(msg)

    return send


class _ParentHandler(logging.Handler):
    """Log records go to the supervisor, which logs them through its own handlers: a forked copy
    of the parent's handlers (a TUI's among them) must never run in the worker."""

    def __init__(self, send: Callable[[tuple[Any, ...]], None]) -> None:
        super().__init__(logging.INFO)
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # the supervisor is gone: nowhere to log
            self._send(("log", record.levelno, record.name, self.format(record)))


def _log_to_parent(send: Callable[[tuple[Any, ...]], None]) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_ParentHandler(send))
    for name in list(logging.Logger.manager.loggerDict):
        logger = logging.getLogger(name)
        if not logger.propagate or logger.handlers:
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True


def _run(ctx: JobContext, conn: Connection, send: Callable[[tuple[Any, ...]], None]) -> None:
    last_phase, last_at = "", 0.0
    job: dict[str, JobRunner] = {}

    def report(phase: str, done: int, total: int) -> None:
        nonlocal last_phase, last_at
        now = time.monotonic()
        if phase == last_phase and now - last_at < SEND_INTERVAL and not (total and done >= total):
            return
        last_phase, last_at = phase, now
        runner_ = job.get("r")
        written = runner_.bytes_written if runner_ is not None else 0
        if phase.startswith("overwrite"):
            written += done  # the pass under way is added to the runner's total when it ends
        send(("progress", phase, done, total, written))

    def listen() -> None:
        try:
            while True:
                msg = conn.recv()
                if msg and msg[0] == "cancel":
                    ctx.cancelled.set()
        except (EOFError, OSError):
            ctx.cancelled.set()  # the supervisor is gone: stop rather than wipe unrecorded

    ctx.report = report
    threading.Thread(target=listen, name="wipe-worker-listen", daemon=True).start()
    with runner.collecting() as ev:
        try:
            job["r"] = JobRunner(ctx)
            payload = job["r"].run()
        except Exception as exc:  # a bug must still close the job with a record
            log.exception("wipe job crashed")
            payload = {
                "result": "failed",
                "reason": f"internal error: {type(exc).__name__}: {exc}",
                "devnode": ctx.device.devnode,
                "device": ctx.device.to_dict(),
                "profile": {"name": ctx.profile.name, "method": ctx.plan.method, "version": ctx.profile.version},
            }
        step_log = job["r"].log if "r" in job else []
    evidence = [*ev.to_list(), {"bench_step_log": step_log}]
    send(("result", payload, evidence))

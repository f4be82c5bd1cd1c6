"""Worker processes: where torch lives.

A worker is spawned (never forked: the web process has threads and an event
loop), imports its target (``app.distill.trainer:train``, which pulls in torch)
straight away, says ``ready``, and waits for a job. That is the warm worker: when
a run arrives, the expensive imports are already done.

Messages from worker to parent, over one duplex pipe:
``("ready", pid)``, ``("event", wire)``, ``("result", done_wire)``,
``("error", message, traceback)``. From parent to worker: ``("job", config)``,
``("exit",)``. Nothing in this module imports torch at module level: the web
process imports it for `WorkerHandle`.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from app.runs.emit import Wire, done_wire, to_wire

_CTX = multiprocessing.get_context("spawn")

Target = Callable[[Any, Callable[[Any], None]], Any]


class ParentGone(BaseException):
    """The web process is gone: stop at once. A BaseException so that a trainer's
    broad ``except Exception`` can't swallow it."""


def load_target(spec: str) -> Target:
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr or "train")


def worker_main(conn: Connection, target: str) -> None:
    """Entry point of the spawned process."""
    # Ctrl-C in a terminal reaches the whole process group: let the parent decide.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        fn = load_target(target)
    except BaseException as exc:
        _send(conn, ("error", f"could not load {target}: {exc!r}", traceback.format_exc()))
        return
    try:
        _send(conn, ("ready", os.getpid()))
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return  # the parent is gone
            if message[0] != "job" or not _run_job(conn, fn, message[1]):
                return
    except ParentGone:
        return


def _run_job(conn: Connection, fn: Target, job: dict[str, Any]) -> bool:
    """Run one job; True if the worker is fit for another."""
    done: Wire | None = None

    def emit(event: Any) -> None:
        nonlocal done
        # Checked here, in the trainer's own call (app/runs/emit.py): a malformed
        # event fails the run with a message that says which field is wrong.
        data = to_wire(event)
        if data["type"] == "done":
            done = data  # sent with the result, so status and event land together
        else:
            _send(conn, ("event", data))

    try:
        summary = fn(_make_config(job), emit)
        _send(conn, ("result", done_wire(done, summary)))
        return True
    except ParentGone:
        raise
    except BaseException as exc:  # the run failed; report why, then retire this worker
        message = f"{type(exc).__name__}: {exc}"
        _send(conn, ("error", message, traceback.format_exc()))
        return False


def _make_config(job: dict[str, Any]) -> Any:
    """The trainer takes a RunConfig (contract). The job carries plain values so
    that the parent needs nothing beyond pydantic to build it."""
    from app.distill.methods import RunConfig

    return RunConfig(**job)


def _send(conn: Connection, message: tuple) -> None:
    try:
        conn.send(message)
    except (BrokenPipeError, ConnectionResetError, EOFError, OSError) as exc:
        raise ParentGone from exc


# -- parent side ----------------------------------------------------------------


class WorkerHandle:
    """The web process's end of one worker."""

    def __init__(self, target: str):
        self.conn, child = _CTX.Pipe(duplex=True)
        self.process = _CTX.Process(
            target=worker_main, args=(child, target), name="kd-run-worker", daemon=True
        )
        self.process.start()
        # Close our copy of the child's end: when the worker dies, recv() sees EOF.
        child.close()
        self.pending: list[tuple] = []  # messages read while the worker sat idle
        self.ready = False
        self.jobs = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def poll_ready(self) -> bool:
        """Read, without blocking, whatever an idle worker has said (its `ready`)."""
        try:
            while not self.ready and self.conn.poll(0):
                message = self.conn.recv()
                self.pending.append(message)
                self.ready = message[0] == "ready"
        except (EOFError, OSError):
            pass
        return self.ready

    def send_job(self, job: dict[str, Any]) -> None:
        self.jobs += 1
        self.conn.send(("job", job))

    def recv_batch(self, limit: int) -> list[tuple]:
        """Block for one message, then take whatever else is already waiting (up to
        `limit`): events that arrive together are stored in one transaction.
        Raises EOFError once the worker is gone and everything it sent is read."""
        if self.pending:
            batch, self.pending = self.pending, []
            return batch
        batch = [self.conn.recv()]
        while len(batch) < limit and self.conn.poll(0):
            try:
                batch.append(self.conn.recv())
            except EOFError:
                break  # hand over what we have; the next call reports the EOF
        return batch

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()

    def exit_reason(self, timeout: float = 2.0) -> str:
        self.process.join(timeout)
        code = self.process.exitcode
        if code is None:
            return "worker stopped responding"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            hint = ": killed, perhaps for lack of memory" if -code == signal.SIGKILL else ""
            return f"worker exited with signal {-code} ({name}{hint})"
        return f"worker exited with code {code} before finishing"

    def close(self) -> None:
        """Retire an idle worker: ask it to leave, and make sure it does."""
        with contextlib.suppress(OSError):
            self.conn.send(("exit",))
        self.process.join(0.5)
        self.kill()
        self.process.join(1)
        self.conn.close()

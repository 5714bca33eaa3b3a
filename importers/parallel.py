"""Run one function over a stream of items in worker processes, results in input order.

For the importer's per-row CPU work, which Python runs on one core at a time. Workers are
forked (they inherit the function and its state: mapping, validator, memos are built once,
never pickled); items travel through a shared queue and each worker answers through a pipe
of its own, so a worker killed in the middle of an answer ends its pipe (end of file) instead
of leaving a half message that the others' answers would wait behind for ever. Few items
are in flight at once, so memory stays bounded however long the stream, and an exception
raised for an item, in a worker or while reading the items, reaches the caller when that
item's turn comes, as if everything had run in order in one process.

Workers die with the importing process (a kill -9 of it leaves no orphan behind), and are
killed when the pool is left, whether the caller finished, failed or gave up.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import pickle
import queue
import signal
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import wait
from typing import Any

#: Items handed out but not yet taken back, per worker: enough to keep each busy while the
#: caller is blocked elsewhere (writing to PostgreSQL), few enough to bound memory.
IN_FLIGHT_PER_WORKER = 3
_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 1.0


class WorkerDied(RuntimeError):
    """A worker process ended without answering (killed, out of memory)."""


class OrderedPool:
    """`map` over worker processes, results in input order (in this process if `workers` is 1
    or less). The workers are forked on entry, so before anything else is under way, and
    killed on exit.

        with OrderedPool(work, workers=2) as pool:
            for result in pool.map(items): ...
    """

    def __init__(self, work: Callable[[Any], Any], *, workers: int) -> None:
        self._work = work
        self.workers = workers
        self._done: dict[int, tuple[bool, Any]] = {}
        self._processes: list[Any] = []

    def __enter__(self) -> OrderedPool:
        if self.workers > 1 and "fork" in mp.get_all_start_methods():  # else: in this process
            ctx = mp.get_context("fork")
            self._tasks: Any = ctx.Queue()
            pipes = [ctx.Pipe(duplex=False) for _ in range(self.workers)]
            self._readers: list[Any] = [reader for reader, _ in pipes]
            parent = os.getpid()
            for n, (_, writer) in enumerate(pipes):
                # a worker keeps only its own writing end: when it dies, its pipe ends
                others = [r for r, _ in pipes] + [w for _, w in pipes if w is not writer]
                p = ctx.Process(
                    target=_serve,
                    args=(self._work, self._tasks, writer, others, parent),
                    name=f"popdb-import-worker-{n + 1}",
                    daemon=True,
                )
                p.start()
                self._processes.append(p)
            for _, writer in pipes:
                writer.close()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def map(self, items: Iterable[Any]) -> Iterator[Any]:
        """`map(work, items)`. An exception raised by `next(items)` is held back until the
        results of the items before it are out (one of them may fail first), as in order."""
        if not self._processes:
            yield from map(self._work, items)
            return
        pending: deque[int] = deque()
        source = iter(items)
        held: Exception | None = None
        submitted = 0
        while True:
            while held is None and len(pending) < len(self._processes) * IN_FLIGHT_PER_WORKER:
                try:
                    item = next(source)
                except StopIteration:
                    break
                except Exception as exc:  # reading failed: after the items before it
                    held = exc
                    break
                self._tasks.put((submitted, item))
                pending.append(submitted)
                submitted += 1
            if not pending:
                break
            yield self._result(pending.popleft())
        if held is not None:
            raise held

    def _result(self, seq: int) -> Any:
        while seq not in self._done:
            ready: list[Any] = wait(self._readers, timeout=_POLL_SECONDS)
            for reader in ready:
                try:
                    got, ok, value = reader.recv()
                except (EOFError, OSError):  # its worker died, perhaps in mid-answer
                    raise self._died() from None
                self._done[got] = (ok, value)
            if not ready and any(not p.is_alive() for p in self._processes):
                raise self._died()
        ok, value = self._done.pop(seq)
        if not ok:
            raise value
        return value

    def _died(self) -> WorkerDied:
        for p in self._processes:
            p.join(timeout=_POLL_SECONDS)
            if not p.is_alive():
                return WorkerDied(f"import worker {p.name} ended with exit code {p.exitcode}")
        return WorkerDied("an import worker's answers ended before its work did")

    def stop(self) -> None:
        """Kill the workers, idle or busy (their results are no longer wanted); idempotent."""
        processes, self._processes = self._processes, []
        for p in processes:
            if p.is_alive():
                p.kill()
        for p in processes:
            p.join(timeout=10)
        if processes:
            self._tasks.cancel_join_thread()  # a half-written item must not keep us waiting
            self._tasks.close()
            for reader in self._readers:
                reader.close()


def _serve(work: Callable[[Any], Any], tasks: Any, answers: Any, others: list[Any],
           parent: int) -> None:  # fmt: skip
    """A worker's life: answer items until killed; exceptions are answers too. A thread sends
    the answers, so the next item is under way while the importer is busy elsewhere."""
    _die_with(parent)
    for connection in others:
        connection.close()
    outbox: queue.SimpleQueue[tuple[int, bool, Any]] = queue.SimpleQueue()
    threading.Thread(target=_send_all, args=(outbox, answers), daemon=True).start()
    while True:
        seq, item = tasks.get()
        try:
            answer: tuple[int, bool, Any] = (seq, True, work(item))
        except Exception as exc:
            answer = (seq, False, _portable(exc))
        outbox.put(answer)


def _send_all(outbox: queue.SimpleQueue[tuple[int, bool, Any]], answers: Any) -> None:
    while True:
        answers.send(outbox.get())


def _die_with(parent: int) -> None:
    """Make sure this worker does not outlive the importing process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, if it has one
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        threading.Event().wait(_POLL_SECONDS)
    os._exit(1)


def _portable(exc: Exception) -> Exception:
    """The exception itself if it survives pickling, else a RuntimeError that tells it."""
    where = "".join(traceback.format_exception(exc))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"in an import worker: {where}")
    exc.add_note(f"Raised in an import worker:\n{where}")
    return exc

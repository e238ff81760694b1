"""Map a function over items in forked worker processes, results in input order.

Workers are forked after the function and items are set, so they inherit both: nothing but chunk
numbers and results crosses a pipe, and templates or parsed sources never need pickling. Output
stays deterministic because results come back in order.

The workers are plain forks, each fed chunk numbers through a pipe of its own and answering
through another: multiprocessing's pool cost a build some 25 ms before its first result and
after its last (its import, three threads, their queues), in a first build of 1,000 articles a
tenth of what the workers do in all.
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS_PER_WORKER = 64
IN_FLIGHT = 2  # chunks sent ahead to each worker, so that none waits for its next one


class WorkerError(Exception):
    """A worker process ended without answering: killed, most often for want of memory. (Not a
    model.UserError: this module is imported before the look-ahead process starts, model is not.)"""

    hint = ("it was killed, most often by the system when memory ran out: build again, with fewer "
            "processes (--jobs 1) if it happens again")

    def __init__(self) -> None:
        super().__init__("a worker process ended without finishing its work")


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel_map(function: Callable[[Item], Result], items: Sequence[Item],
                 jobs: int) -> list[Result]:
    """function(item) for every item, across `jobs` processes when there is enough to share."""
    return list(parallel_imap(function, items, jobs))


def parallel_imap(function: Callable[[Item], Result], items: Sequence[Item], jobs: int,
                  meanwhile: Callable[[], None] = lambda: None) -> Iterator[Result]:
    """Like parallel_map, but yields each result in order as soon as it is ready. `meanwhile`
    runs in this process once the workers have their work (at once, without workers): this
    process has nothing else to do until their first results come.

    An exception raised by `function` in a worker is raised here; however the iteration ends,
    no worker is left running."""
    if _workers_for(len(items), jobs) < 2:
        meanwhile()
        yield from map(function, items)
        return
    yield from parallel_batches(partial(_each, function), items, jobs, meanwhile)


def parallel_batches(work: Callable[[list[Item]], list[Result]], items: Sequence[Item], jobs: int,
                     meanwhile: Callable[[], None] = lambda: None) -> Iterator[Result]:
    """Like parallel_imap, with `work` given a chunk of items at a time (a list, in order), to
    return their results in order: work done stage by stage over a chunk, each stage for every
    item before the next, keeps each stage's code and data in the processor's caches (see
    incremental's _records_of). Without workers, the chunks are done here, one after another."""
    jobs = _workers_for(len(items), jobs)
    if jobs < 2:
        meanwhile()
        for start, end in chunk_bounds(len(items), 1):
            yield from work(list(items[start:end]))
        return
    workers = _Workers(work, items, chunk_bounds(len(items), jobs), jobs)
    try:
        meanwhile()
        yield from workers.results()
    finally:
        workers.stop()


def _workers_for(count: int, jobs: int) -> int:
    """How many workers `count` items are shared out among: fewer than two means none, the work
    is done in this process (as it is where processes cannot fork)."""
    return min(jobs, count // MIN_ITEMS_PER_WORKER) if hasattr(os, "fork") else 1


def _each(function: Callable[[Item], Result], items: list[Item]) -> list[Result]:
    return [function(item) for item in items]


CHUNK, LAST_CHUNK = 64, 8  # items per chunk: the most, and the fewest at the end


def chunk_bounds(count: int, jobs: int) -> list[tuple[int, int]]:
    """The chunks (start, end) that `count` items go to the workers in: each a share of what
    is left, at most CHUNK, so that they shrink towards the end (down to LAST_CHUNK) and the
    workers finish together rather than one waiting for another's last large chunk."""
    chunks = []
    start = 0
    while start < count:
        size = min(CHUNK, max(LAST_CHUNK, -(-(count - start) // (jobs * 4))))
        chunks.append((start, min(start + size, count)))
        start += size
    return chunks


class _Workers:
    """Forked workers, each with a pipe of chunk numbers to do and a pipe of answers."""

    def __init__(self, work: Callable[[list[Any]], list[Any]], items: Sequence[Any],
                 chunks: list[tuple[int, int]], jobs: int) -> None:
        self.chunks = chunks
        self.sent = 0  # chunks handed out so far, in order
        self.pids: list[int] = []
        self.tasks: dict[int, int] = {}  # answer pipe -> the worker's task pipe, while open
        self.in_flight: dict[int, int] = {}  # answer pipe -> chunks sent and not yet answered
        self.done = False  # every answer came: the workers end by themselves
        # Forked with Ctrl-C held: a terminal sends it to every process of the command, and a
        # worker it stopped mid-chunk would never answer. The workers ignore it; this process
        # alone takes it, and then ends them (see stop).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            for _ in range(jobs):
                self._fork(work, items)
            for _ in range(IN_FLIGHT):
                for answers in self.in_flight:
                    self._send(answers)
        except BaseException:
            self.stop()
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held meanwhile comes now

    def _fork(self, work: Callable[[list[Any]], list[Any]], items: Sequence[Any]) -> None:
        task_out, task_in = os.pipe()
        answer_out, answer_in = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: serve, then end at once, running nothing of the parent's
            try:
                for descriptor in (task_in, answer_out, *self.tasks.values(), *self.in_flight):
                    os.close(descriptor)  # an earlier worker's pipe held open here never ends
                _serve(work, items, self.chunks, task_out, answer_in)
            finally:
                os._exit(0)
        os.close(task_out)
        os.close(answer_in)
        self.pids.append(pid)
        self.tasks[answer_out] = task_in
        self.in_flight[answer_out] = 0

    def _send(self, answers: int) -> None:
        """The next chunk to the worker answering on `answers`; none left: the end of its tasks."""
        task = self.tasks.get(answers)
        if task is None:
            return
        if self.sent < len(self.chunks):
            try:
                os.write(task, self.sent.to_bytes(4, "little"))
            except BrokenPipeError:  # the worker is gone: before its tasks end, only a kill ends it
                raise WorkerError() from None
            self.sent += 1
            self.in_flight[answers] += 1
        else:
            os.close(self.tasks.pop(answers))

    def results(self) -> Iterator[Any]:
        received: dict[int, list[Any]] = {}
        poller = select.poll()
        for answers in self.in_flight:
            poller.register(answers, select.POLLIN)
        for index in range(len(self.chunks)):
            while index not in received:
                for answers, _ in poller.poll():
                    if not self.in_flight[answers]:  # its tasks ended, and it with them
                        poller.unregister(answers)
                        continue
                    number, results = _answer(answers)
                    received[number] = results
                    self.in_flight[answers] -= 1
                    self._send(answers)
            if index == len(self.chunks) - 1:
                # The workers are gone before the last results are handed out: a caller that
                # takes as many results as items, and never asks for the end, leaves no process
                # behind (they would hold the files the build has open, its lock among them).
                self.done = True
                self.stop()
            yield from received.pop(index)

    def stop(self) -> None:
        """End the workers (at once, unless every answer came) and wait for them."""
        for task in self.tasks.values():
            os.close(task)
        self.tasks.clear()
        if not self.done:
            for pid in self.pids:
                os.kill(pid, signal.SIGTERM)
        for pid in self.pids:
            os.waitpid(pid, 0)
        self.pids.clear()
        for answers in self.in_flight:
            os.close(answers)
        self.in_flight.clear()


def _serve(work: Callable[[list[Any]], list[Any]], items: Sequence[Any],
           chunks: list[tuple[int, int]], tasks: int, answers: int) -> None:
    """In a worker: each chunk whose number comes, done and answered, until the tasks end.

    A worker ignores Ctrl-C (see _Workers). It collects garbage even when the caller has stopped
    the collector for itself, but only its own: what it inherited is set aside (gc.freeze), so
    that no collection walks the parent's objects, touching and so copying their pages."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # which also drops one held while blocked
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    gc.freeze()
    gc.enable()
    with open(answers, "wb") as out:
        while number := os.read(tasks, 4):  # written 4 bytes at a time: whole, or nothing at the end
            index = int.from_bytes(number, "little")
            start, end = chunks[index]
            try:
                answer = (index, True, work(list(items[start:end])))
            except BaseException as error:  # raised again in the caller
                answer = (index, False, error)
            try:
                data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
            except Exception as error:  # an exception that does not pickle: a bug, told as one
                failure = RuntimeError(f"in a worker: {answer[2]!r} (which does not pickle: {error})")
                data = pickle.dumps((index, False, failure))
            out.write(len(data).to_bytes(8, "little"))
            out.write(data)
            out.flush()


def _answer(answers: int) -> tuple[int, list[Any]]:
    """A worker's next answer: its chunk's number and results; or its exception, raised."""
    header = _read(answers, 8)
    if len(header) < 8:
        raise WorkerError()
    data = _read(answers, int.from_bytes(header, "little"))
    index, done, results = pickle.loads(data)
    if not done:
        raise results
    return index, results


def _read(descriptor: int, size: int) -> bytes:
    """`size` bytes from a pipe, or fewer if it ends first."""
    parts = []
    while size:
        part = os.read(descriptor, min(size, 1 << 20))
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)

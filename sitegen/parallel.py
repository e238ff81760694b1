"""Map a function over items in forked worker processes, results in input order.

Workers are forked after the function and items are set, so they inherit both: nothing but the
results crosses a pipe, and templates or parsed sources never need pickling. Output stays
deterministic because results come back in order.
"""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS_PER_WORKER = 64
_task: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel_map(function: Callable[[Item], Result], items: Sequence[Item],
                 jobs: int) -> list[Result]:
    """function(item) for every item, across `jobs` processes when there is enough to share."""
    return list(parallel_imap(function, items, jobs))


def parallel_imap(function: Callable[[Item], Result], items: Sequence[Item],
                  jobs: int, meanwhile: Callable[[], None] = lambda: None) -> Iterator[Result]:
    """Like parallel_map, but yields each result in order as soon as it is ready. `meanwhile`
    runs in this process once the workers have their work (at once, without workers): this
    process has nothing else to do until their first results come."""
    jobs = min(jobs, len(items) // MIN_ITEMS_PER_WORKER)
    if jobs < 2 or not _can_fork():
        meanwhile()
        yield from map(function, items)
        return
    import multiprocessing
    global _task
    _task = (function, items)
    try:
        chunks = chunk_bounds(len(items), jobs)
        with _pool(multiprocessing.get_context("fork"), jobs) as pool:
            parts = pool.imap(_run_chunk, chunks)
            meanwhile()
            for _ in range(len(chunks) - 1):
                yield from next(parts)
            last = next(parts)
        # The workers are gone before the last results are handed out: a caller that takes as
        # many results as items, and never asks for the end, leaves no process behind (they
        # would hold the files the build has open, its lock among them).
        yield from last
    finally:
        _task = None


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


def _can_fork() -> bool:
    import multiprocessing  # only when there is work to share: it is slow to import

    return "fork" in multiprocessing.get_all_start_methods()


def _pool(context: Any, jobs: int) -> Any:
    """A pool whose workers never take Ctrl-C. A terminal sends SIGINT to every process of the
    command: a worker it stopped mid-task would never send that task's result, and the pool, ended
    by the caller's KeyboardInterrupt, would wait for it for ever. So the caller alone takes it,
    and ending the pool ends the workers. They are forked with the signal blocked, so that none
    takes one that comes before it ignores them (see _start_worker)."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return context.Pool(jobs, initializer=_start_worker)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held meanwhile comes now


def _start_worker() -> None:
    """A worker ignores Ctrl-C (see _pool). It collects garbage even when the caller has
    stopped the collector for itself, but only its own: what it inherited is set aside
    (gc.freeze), so that no collection walks the parent's objects, touching and so copying
    their pages."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # which also drops one held while blocked
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    gc.freeze()
    gc.enable()


def _run_chunk(bounds: tuple[int, int]) -> list[Any]:
    assert _task is not None
    function, items = _task
    return [function(items[index]) for index in range(*bounds)]

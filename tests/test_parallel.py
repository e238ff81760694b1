"""parallel_imap: results in order, a worker's exception raised in the caller, and no worker
process left however the results are taken; the chunks it sends shrink towards the end."""

from __future__ import annotations

import gc
import os
import signal
from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitegen import parallel


def child_processes() -> list[int]:
    """The processes this one started and has not waited for (running, or ended unreaped)."""
    mine = str(os.getpid())
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(") ")[2].split()
        except OSError:  # ended meanwhile
            continue
        if fields[1] == mine:
            found.append(int(entry))
    return found


def square(number: int) -> int:
    return number * number


def test_results_come_in_order_across_workers() -> None:
    items = list(range(5 * parallel.MIN_ITEMS_PER_WORKER))
    assert list(parallel.parallel_imap(square, items, 2)) == [square(item) for item in items]


def test_no_worker_is_left_once_every_result_is_taken_without_asking_for_the_end() -> None:
    """A caller that takes as many results as it gave items (next(), as the build does) and then
    drops the iterator in a frame a traceback keeps alive must not leave workers running: they
    hold the lock on the site's cache, and the next build would wait for them for ever."""
    items = list(range(4 * parallel.MIN_ITEMS_PER_WORKER))
    results = parallel.parallel_imap(square, items, 2)
    taken = [next(results) for _ in items]
    assert taken == [square(item) for item in items]
    assert child_processes() == []
    results.close()


@given(st.integers(0, 20_000), st.integers(2, 8))
def test_chunks_cover_the_items_in_order_and_shrink_towards_the_end(count, jobs):
    chunks = parallel.chunk_bounds(count, jobs)
    assert [start for start, _ in chunks] == [0, *(end for _, end in chunks)][: len(chunks)]
    assert (chunks[-1][1] if chunks else 0) == count
    sizes = [end - start for start, end in chunks]
    assert all(0 < size <= parallel.CHUNK for size in sizes)
    assert sizes == sorted(sizes, reverse=True)  # the last ones the smallest
    if count >= 8 * parallel.CHUNK * jobs:
        assert sizes[0] == parallel.CHUNK and sizes[-2] == parallel.LAST_CHUNK


def collecting(_: int) -> bool:
    return gc.isenabled()


def test_workers_collect_garbage_when_the_caller_has_stopped_the_collector() -> None:
    items = list(range(4 * parallel.MIN_ITEMS_PER_WORKER))
    gc.disable()
    try:
        assert set(parallel.parallel_imap(collecting, items, 2)) == {True}
    finally:
        gc.enable()


def failing(number: int) -> int:
    if number == 3 * parallel.MIN_ITEMS_PER_WORKER:
        raise ValueError(f"no square for {number}")
    return number


def test_an_exception_in_a_worker_is_raised_in_the_caller_and_no_worker_is_left() -> None:
    items = list(range(5 * parallel.MIN_ITEMS_PER_WORKER))
    taken = []
    with pytest.raises(ValueError, match=f"no square for {3 * parallel.MIN_ITEMS_PER_WORKER}"):
        taken.extend(parallel.parallel_imap(failing, items, 2))
    assert taken == items[: len(taken)] and len(taken) <= 3 * parallel.MIN_ITEMS_PER_WORKER
    assert child_processes() == []


def test_a_caller_that_stops_early_leaves_no_worker() -> None:
    results = parallel.parallel_imap(square, list(range(8 * parallel.MIN_ITEMS_PER_WORKER)), 2)
    assert next(results) == 0
    results.close()  # as an interrupted build's loop does
    assert child_processes() == []


def ending(number: int) -> int:
    if number == 2 * parallel.MIN_ITEMS_PER_WORKER:
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel does to a process out of memory
    return number


def test_a_worker_that_dies_fails_the_caller_instead_of_leaving_it_waiting() -> None:
    with pytest.raises(parallel.WorkerError, match="ended without finishing"):
        list(parallel.parallel_imap(ending, list(range(5 * parallel.MIN_ITEMS_PER_WORKER)), 2))
    assert child_processes() == []


def test_a_worker_killed_between_two_chunks_fails_the_caller_the_same_way() -> None:
    """Killed after its answer was read and before its next chunk is sent: the chunk finds no
    reader (a broken pipe), which is the same failure as an answer that never comes."""
    workers = parallel._Workers(partial(parallel._each, square), list(range(1000)),
                                parallel.chunk_bounds(1000, 2), 2)
    try:
        first = next(iter(workers.in_flight))
        os.kill(workers.pids[0], signal.SIGKILL)
        while _state(workers.pids[0]) != "Z":  # its pipes close as it ends
            pass
        with pytest.raises(parallel.WorkerError, match="ended without finishing"):
            workers._send(first)
    finally:
        workers.stop()
    assert child_processes() == []


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(") ")[2].split()[0]


def test_meanwhile_runs_once_the_workers_have_their_work_or_at_once_without_workers() -> None:
    ran: list[int] = []

    def count_workers() -> None:
        ran.append(len(child_processes()))

    for count in (4 * parallel.MIN_ITEMS_PER_WORKER, 3):  # shared out; too few to share
        results = parallel.parallel_imap(square, list(range(count)), 2, count_workers)
        assert list(results) == [square(item) for item in range(count)]
    assert ran == [2, 0]


def squared_where(items: list[int]) -> list[tuple[int, int]]:
    return [(square(item), os.getpid()) for item in items]


def test_batches_take_each_chunk_whole_in_the_process_that_does_it() -> None:
    """As the build parses, anchors, renders and writes a chunk of articles stage by stage."""
    for count, shared_out in ((4 * parallel.MIN_ITEMS_PER_WORKER, True), (3, False)):
        results = list(parallel.parallel_batches(squared_where, list(range(count)), 2))
        assert [result for result, _ in results] == [square(item) for item in range(count)]
        where = {pid for _, pid in results}
        assert where == {os.getpid()} if not shared_out else len(where) == 2 and os.getpid() not in where


@given(st.integers(0, 300))
def test_without_workers_the_batches_are_the_chunks_in_order(count: int) -> None:
    taken: list[list[int]] = []

    def work(items: list[int]) -> list[int]:
        taken.append(items)
        return items

    assert list(parallel.parallel_batches(work, list(range(count)), 1)) == list(range(count))
    assert [(chunk[0], chunk[-1] + 1) for chunk in taken] == parallel.chunk_bounds(count, 1)

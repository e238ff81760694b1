"""parallel_imap: results in order, and no worker process left once the results are taken; the
chunks it sends shrink towards the end."""

from __future__ import annotations

import gc
import multiprocessing

from hypothesis import given
from hypothesis import strategies as st

from sitegen import parallel


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
    assert multiprocessing.active_children() == []
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

"""Map a function over items in forked worker processes, results in input order.

Workers are forked after the function and items are set, so they inherit both: nothing but the
results crosses a pipe, and templates or parsed sources never need pickling. Output stays
deterministic because results come back in order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
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
    jobs = min(jobs, len(items) // MIN_ITEMS_PER_WORKER)
    if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(item) for item in items]
    global _task
    _task = (function, items)
    try:
        size = -(-len(items) // (jobs * 4))  # a few chunks a worker evens out slow ones
        chunks = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            parts = pool.map(_run_chunk, chunks)
    finally:
        _task = None
    return [result for part in parts for result in part]


def _run_chunk(bounds: tuple[int, int]) -> list[Any]:
    assert _task is not None
    function, items = _task
    return [function(items[index]) for index in range(*bounds)]

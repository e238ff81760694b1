"""Results of the build's pure steps, kept by their inputs between the rebuilds of one session.

Every step it serves is a pure function of its key, so a hit is always what a fresh build would
compute; entries the latest build did not use are dropped, so memory follows the site's size.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

Value = TypeVar("Value")


class Memo:
    def __init__(self) -> None:
        self.tables: dict[str, dict[Hashable, Any]] = defaultdict(dict)
        self.used: dict[str, set[Hashable]] = defaultdict(set)
        self.hits = 0
        self.misses = 0
        self.missed: Counter[str] = Counter()  # misses by table, for the latest build

    def get(self, table: str, key: Hashable, compute: Callable[[], Value]) -> Value:
        entries = self.tables[table]
        self.used[table].add(key)
        if key in entries:
            self.hits += 1
            return entries[key]  # type: ignore[no-any-return]
        self.misses += 1
        self.missed[table] += 1
        value = entries[key] = compute()
        return value

    def end_build(self) -> tuple[int, int]:
        """Forget what the build just finished did not use; return and reset (hits, misses)."""
        for name, entries in self.tables.items():
            used = self.used[name]
            for key in [key for key in entries if key not in used]:
                del entries[key]
        self.used.clear()
        self.missed = Counter()
        counts, self.hits, self.misses = (self.hits, self.misses), 0, 0
        return counts


def freeze(value: Any) -> Hashable:
    """A hashable stand-in for template data: lists and dicts become tuples."""
    if isinstance(value, dict):
        return tuple((key, freeze(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value  # type: ignore[no-any-return]


class NoMemo(Memo):
    """Computes every time: a one-off build has nothing to reuse."""

    def get(self, table: str, key: Hashable, compute: Callable[[], Value]) -> Value:
        return compute()


NO_MEMO = NoMemo()

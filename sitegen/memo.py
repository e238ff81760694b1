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
        # table -> key -> [value, the build that last used it]
        self.tables: dict[str, dict[Hashable, list[Any]]] = defaultdict(dict)
        self.generation = 0
        self.hits = 0
        self.misses = 0
        self.missed: Counter[str] = Counter()  # misses by table, for the latest build

    def get(self, table: str, key: Hashable, compute: Callable[[], Value]) -> Value:
        entries = self.tables[table]
        found = entries.get(key)
        if found is not None:
            self.hits += 1
            found[1] = self.generation
            return found[0]  # type: ignore[no-any-return]
        self.misses += 1
        self.missed[table] += 1
        value = compute()
        entries[key] = [value, self.generation]
        return value

    def end_build(self) -> tuple[int, int]:
        """Forget what the build just finished did not use; return and reset (hits, misses)."""
        for entries in self.tables.values():
            for key in [key for key, entry in entries.items() if entry[1] != self.generation]:
                del entries[key]
        self.generation += 1
        self.missed = Counter()
        counts, self.hits, self.misses = (self.hits, self.misses), 0, 0
        return counts


class Same:
    """A key part that matches only the very object it holds: for results the memo itself handed
    out, which stay the same objects while their inputs are unchanged. Comparing them costs
    nothing, and the key keeps the object alive, so its id cannot be reused while stored."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.value is self.value


def freeze(value: Any) -> Hashable:
    """A hashable stand-in for template data: lists and dicts become tuples."""
    if isinstance(value, tuple):
        try:
            hash(value)  # already hashable all the way down (the common case for long lists)
            return value
        except TypeError:
            pass
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

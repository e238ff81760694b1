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
        self.tables: dict[str, dict[Key, tuple[Key, Any]]] = defaultdict(dict)
        self.used: dict[str, set[Key]] = defaultdict(set)
        self.hits = 0
        self.misses = 0
        self.missed: Counter[str] = Counter()  # misses by table, for the latest build

    def get(self, table: str, key: Hashable, compute: Callable[[], Value]) -> Value:
        wrapped = Key(key)
        entries = self.tables[table]
        found = entries.get(wrapped)
        if found is not None:
            self.hits += 1
            self.used[table].add(found[0])  # the stored key: later lookups match it by identity
            return found[1]  # type: ignore[no-any-return]
        self.misses += 1
        self.missed[table] += 1
        value = compute()
        entries[wrapped] = (wrapped, value)
        self.used[table].add(wrapped)
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


class Key:
    """A memo key whose hash is computed once: keys are deep, and sets and dicts ask often."""

    __slots__ = ("hash", "value")

    def __init__(self, value: Hashable) -> None:
        self.value = value
        self.hash = hash(value)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Key) and self.hash == other.hash
                                 and self.value == other.value)


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

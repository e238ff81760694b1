"""The layout of .sitegen-cache/build.cache (what it holds: see cache).

The file is a series of frames, each behind its length and a CRC-32: the whole cache first, one
marshalled section after another so that a reader can load only the sections it needs, then the
changes later builds appended, each a table's changed and removed keys or a section's new value.
A frame cut short or damaged makes the whole file unusable. Like `status`, this module imports
nothing heavy: `ahead` reads the output folder's record from a process of its own.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from . import __version__

CACHE = ".sitegen-cache"
CACHE_FILE = "build.cache"
LOCK_FILE = "lock"
FORMAT = ("sitegen build cache", 10, __version__, sys.version)
SECTIONS = ("format", "site", "theme_problems", "sources", "parsed", "outputs", "pages", "files",
            "out_inode", "spare", "spare_inode", "outline")
TABLES = frozenset({"sources", "parsed", "outputs", "pages", "files", "spare"})
CHANGE = "change"

Identity = tuple[int, int, int]  # a cache file's inode, size and mtime: another build changes one


def usable(root: Path) -> bool:
    """Whether the site's folder can hold a cache (a read-only checkout cannot: build without)."""
    try:
        (root / CACHE).mkdir(exist_ok=True)
    except OSError:
        return False
    return os.access(root / CACHE, os.W_OK | os.X_OK)


def read(folder: Path) -> tuple[Identity, bytes]:
    """The cache file's identity and bytes (FileNotFoundError or another OSError if it cannot be read)."""
    with open(folder / CACHE_FILE, "rb") as file:
        status = os.fstat(file.fileno())
        return (status.st_ino, status.st_size, status.st_mtime_ns), file.read()


def whole(sections: dict[str, Any]) -> bytes:
    """Every section, as the file's first frame."""
    return frame(tuple(marshal.dumps(sections[name]) for name in SECTIONS))


def change(changes: dict[str, Any]) -> bytes:
    """A build's changes, as a frame to append."""
    return frame((CHANGE, changes))


def sections(data: bytes, wanted: Collection[str] = SECTIONS) -> tuple[dict[str, Any], int]:
    """The wanted sections of the file's content, with the changes appended to it applied, and
    how many changes there were; ValueError if the bytes are not such a file, or another version's."""
    frames = _frames(data)
    parts = marshal.loads(next(frames))
    if len(parts) != len(SECTIONS) or marshal.loads(parts[0]) != FORMAT:
        raise ValueError("another version")
    state = {name: marshal.loads(part) for name, part in zip(SECTIONS, parts, strict=True) if name in wanted}
    changes = 0
    for content in frames:
        kind, changed = marshal.loads(content)
        if kind != CHANGE:
            raise ValueError("damaged")
        for name, value in changed.items():
            if name not in wanted:
                continue
            if name in TABLES:
                new, removed = value
                for key in removed:
                    del state[name][key]
                state[name].update(new)
            else:
                state[name] = value
        changes += 1
    return state, changes


def frame(value: Any) -> bytes:
    """value in marshal's format (plain tuples load many times faster than pickles), behind its
    length and a CRC-32 of it: it guards against damage, such as a write cut short, not against
    tampering (the cache is the site owner's own file), at a quarter of a digest's cost."""
    data = marshal.dumps(value)
    return len(data).to_bytes(8, "little") + zlib.crc32(data).to_bytes(4, "little") + data


def _frames(data: bytes) -> Iterator[memoryview]:
    """Each frame's content in turn; ValueError at the first damaged one (or none at all)."""
    view, position = memoryview(data), 0
    if not data:
        raise ValueError("empty")
    while position < len(data):
        size = int.from_bytes(view[position : position + 8], "little")
        checksum = int.from_bytes(view[position + 8 : position + 12], "little")
        content = view[position + 12 : position + 12 + size]
        if len(data) - position < 12 or len(content) != size or zlib.crc32(content) != checksum:
            raise ValueError("damaged")
        yield content
        position += 12 + size

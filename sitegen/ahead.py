"""Ask the file system about the site's files from a second process, while this one starts up.

Before it knows what changed, a warm build of 10,000 articles asks about some 40,000 files: the
signature of each source file, and of each output file, to know that nobody changed it. Those
calls wait on the kernel, not on Python, and need only the site's folder and the cache file. A
process forked first thing (see cli) makes them while this one imports sitegen and loads the
cache, and the build then finds the answers ready. A first build (no cache yet) reads every
source file for its digest: the forked process reads the annotation files (and the tags in their
front matter) from the last one back, while the build imports and then reads them from the first
one on, until the two meet (see Ahead.take); then the seeds, whose digests the build needs only
once its workers are done (they read each seed anyway, and digest the bytes they parse).

The answer about the output folder is used only if the folder and the cache file are still the
ones the forked process looked at: a build never writes into the output folder's files, it swaps
a new folder in (a new inode) and then saves the cache (a new size or inode), so any build that
ran in between shows.
"""

from __future__ import annotations

import contextlib
import marshal
import mmap
import os
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

from . import cachefile
from .fronttags import quick_front_tags
from .status import MARKER, SourceSignature, as_left, digest, is_annotation, is_seed, read_bytes, scan_sources

# The two marks of a first build's annotations (see Ahead.take), in a page both processes share:
# where the build's files end, and where the forked process's begin (none of them yet: 2**32 - 1).
MINE, THEIRS = 0, 1


class Sources(NamedTuple):
    started: int  # time.time_ns() just before the files were looked at
    found: dict[str, SourceSignature]  # see status.scan_sources
    refused: list[tuple[str, str]]


class Outputs(NamedTuple):
    cache: cachefile.Identity  # of the cache file whose record of the output folder was checked
    out_inode: int  # of the output folder that was checked
    unlike: frozenset[str]  # its files that are not as that record says


class Ahead:
    """The forked process's answers, as they come: first the sources, then the output folder
    (or, for a first build, the digests of the annotations it read, then the seeds')."""

    def __init__(self, pid: int, reader: int, started: int, first: bool, marks: memoryview) -> None:
        self.pid: int | None = pid
        self.pipe = open(reader, "rb")  # noqa: SIM115 (closed by close())
        self.started = started
        self.first = first  # a first build: the seeds' digests come second, not the outputs
        self.marks = marks  # shared with the forked process: see take()

    def sources(self) -> Sources | None:
        """The source files found, or None if the process failed: the build then looks itself."""
        answer = self._next()
        return None if answer is None else Sources(self.started, *answer)

    def outputs(self) -> Outputs | None:
        """The output folder's files not as the cache records them, or None if unknown (no cache
        to compare with, no output folder, or a failure): the build then checks itself."""
        answer = None if self.first else self._next()
        return None if answer is None else Outputs(*answer)

    def seed_digests(self) -> dict[str, bytes]:
        """For a first build, the digest of each seed file found (those read: an unreadable one
        is left to the build to report); after annotations_read."""
        answer = self._next() if self.first else None
        return answer if isinstance(answer, dict) else {}

    def take(self, index: int) -> bool:
        """For a first build: whether this process is to read the index-th annotation file of
        the sources found (in their order), rather than the forked process, which takes them
        from the last one back. Each side marks a file as its own before reading it, and stops
        at the first the other has marked: a file between the two may be read by both, never by
        neither."""
        if index >= self.marks[THEIRS]:
            return False
        self.marks[MINE] = index + 1  # this process has taken every file before index + 1
        return True

    def annotations_read(self) -> dict[str, tuple[bytes, Any]]:
        """For a first build, after the sources: each annotation file the forked process took
        and could read, as (digest, quick_front_tags of its bytes)."""
        answer = self._next() if self.first else None
        return answer if isinstance(answer, dict) else {}

    def _next(self) -> Any:
        try:
            size = int.from_bytes(self.pipe.read(8), "little")
            return marshal.loads(self.pipe.read(size)) if size else None
        except (OSError, ValueError, EOFError, TypeError):
            return None

    def close(self) -> None:
        """Let the process go (it stops writing at once if its answers are not wanted) and wait for it."""
        self.pipe.close()
        if self.pid is not None:
            os.waitpid(self.pid, 0)
            self.pid = None


def look_ahead(root: Path, out: Path) -> Ahead | None:
    """Start a process asking about the site's files, if the site can hold a cache (a build
    without one asks nothing: see cli) and this process may fork: not on systems without fork,
    nor with threads running, which a fork would leave half-copied."""
    folder = root / cachefile.CACHE
    if not hasattr(os, "fork") or threading.active_count() != 1 or not cachefile.usable(root):
        return None
    first = not (folder / cachefile.CACHE_FILE).is_file()
    started = time.time_ns()
    marks = memoryview(mmap.mmap(-1, 8)).cast("I")  # shared after the fork: see Ahead.take
    marks[MINE], marks[THEIRS] = 0, 2**32 - 1
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the forked process: answer, then end at once, running nothing of the parent's
        try:
            os.close(reader)
            refused: list[tuple[str, str]] = []
            found = scan_sources(root, refused)
            with open(writer, "wb") as pipe:
                # A pipe holds 64 KB: the rest of the sources' answer goes as the build reads it,
                # while the output folder is checked, or a first build's files are read: all
                # of them, often, before the build has imported what it needs to ask.
                sending = threading.Thread(target=_send, args=(pipe, (found, refused)))
                sending.start()
                later = _annotations_read(root, found, marks) if first else _outputs(out, folder)
                sending.join()
                _send(pipe, later)
                if first:
                    _send(pipe, _seed_digests(root, found))
        finally:
            os._exit(0)
    os.close(writer)
    return Ahead(pid, reader, started, first, marks)


def _send(pipe: Any, answer: Any) -> None:
    data = marshal.dumps(answer) if answer is not None else b""
    with contextlib.suppress(OSError):  # the build closed the pipe: it wants no more answers
        pipe.write(len(data).to_bytes(8, "little") + data)
        pipe.flush()


def _seed_digests(root: Path, found: dict[str, SourceSignature]) -> dict[str, bytes]:
    digests = {}
    for path in filter(is_seed, found):
        with contextlib.suppress(OSError):
            digests[path] = digest(read_bytes(f"{root}/{path}"))
    return digests


def _annotations_read(root: Path, found: dict[str, SourceSignature],
                      marks: memoryview) -> dict[str, tuple[bytes, Any]]:
    """The annotation files the build has not taken, from the last one back (see Ahead.take)."""
    paths = [path for path in found if is_annotation(path)]
    answers = {}
    for index in range(len(paths) - 1, -1, -1):
        if index < marks[MINE]:
            break
        marks[THEIRS] = index  # this process has taken every file from index on
        with contextlib.suppress(OSError):
            data = read_bytes(f"{root}/{paths[index]}")
            answers[paths[index]] = (digest(data), quick_front_tags(data))
    return answers


def _outputs(out: Path, folder: Path) -> tuple[cachefile.Identity, int, frozenset[str]] | None:
    try:
        identity, data = cachefile.read(folder)
        state, _ = cachefile.sections(data, ("files", "out_inode"))
        out_inode = os.stat(out).st_ino
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        return None
    if out_inode != state["out_inode"]:  # another folder than the cache records: nothing to check
        return None
    text = str(out)
    unlike = frozenset(path for path, entry in state["files"].items()
                       if path != MARKER and not as_left(text, path, entry))
    return identity, out_inode, unlike

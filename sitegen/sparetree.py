"""The spare tree: a copy of the site made of hard links, which the next build brings up to date
and swaps in (see incremental). Making one takes a folder for each of the site's folders and a
link for each file, not one byte copied: at 10,000 articles, 10,000 folders and 20,000 links.

`link_tree` makes one from a whole site. `EarlyLinker` makes one in a forked process from the
files a first build has written so far, while the build renders the rest of the site in one
process (its lists): two things at once on two processors, where linking afterwards came last.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import signal
import zlib
from collections.abc import Mapping
from pathlib import Path

from .output import DIRECTORY_MODE, exact_modes, make_folders
from .status import Entry

LINKERS = 2  # threads that link a spare tree: the system calls run side by side, out of the GIL
# The two marks of an EarlyLinker's paths, in a page both processes share: where the forked
# process's end, and where the build's begin (none yet: all of them).
LINKER, BUILD = 0, 1


def link_tree(source: Path, target: Path, files: Mapping[str, Entry]) -> None:
    """A tree of hard links at target to these files of source (not one byte copied), made by
    LINKERS threads, each with the files of its own top folders (20,000 links and 10,000
    folders at 10,000 articles: a third of a second in one thread)."""
    from concurrent.futures import ThreadPoolExecutor  # only here: 9 ms to import, warm builds never do

    exact = exact_modes()
    _make_root(target, exact)
    shares: list[list[str]] = [[] for _ in range(LINKERS)]
    for path in files:
        shares[zlib.crc32(path.partition("/")[0].encode()) % LINKERS].append(path)
    with ThreadPoolExecutor(LINKERS) as pool:
        for done in [pool.submit(link_files, str(source), str(target), share, exact) for share in shares]:
            done.result()  # an error of any thread is the caller's


def link_files(source: str, target: str, paths: list[str], exact: bool) -> None:
    made = {""}
    for path in paths:
        folder = path.rpartition("/")[0]
        if folder not in made:
            make_folders(target, folder, made, exact)
        os.link(f"{source}/{path}", f"{target}/{path}")


class EarlyLinker:
    """A spare tree at `target` being linked, by a forked process, to `files` of the new tree at
    `staging`: the files written so far. The process holds the new tree by a descriptor, so the
    tree may be swapped in meanwhile; `finish` then brings the spare to the site as it turned
    out (a file written again is a new file, and pages came after). The process links the
    files from the first on; the build, once it has nothing else to do, from the last one back
    (see _take_from_the_end)."""

    def __init__(self, staging: Path, target: Path, files: Mapping[str, Entry]) -> None:
        self.target = target
        self.files = dict(files)
        self.paths = sorted(self.files)
        self.exact = exact_modes()
        self.marks = memoryview(mmap.mmap(-1, 8)).cast("I")  # shared after the fork
        self.marks[LINKER], self.marks[BUILD] = 0, len(self.paths)
        _make_root(target, self.exact)
        source = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            into = os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                self.pid: int | None = self._fork(source, into)
            finally:
                os.close(into)
        finally:
            os.close(source)

    def _fork(self, source: int, into: int) -> int:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
            if pid == 0:  # the linker: link, then end at once, running nothing of the parent's
                code = 1
                try:
                    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build takes Ctrl-C, and ends it
                    _link_at(source, into, self.paths, self.exact, self.marks)
                    code = 0
                finally:
                    os._exit(code)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return pid

    def finish(self, source: Path, files: Mapping[str, Entry]) -> bool:
        """Wait for the process, then make the spare hold `files` of source (the site, swapped
        in) exactly, linking what the process did not. False if the process failed (no hard
        links here, say): the spare is then as the process left it."""
        assert self.pid is not None
        self._take_from_the_end(source)
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        if status != 0:
            return False
        target = str(self.target)
        for path in self.files.keys() - files.keys():  # rendered early, then taken out
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{target}/{path}")
            with contextlib.suppress(OSError):  # not empty, or gone
                os.rmdir(f"{target}/{path.rpartition('/')[0]}")
        rest = [path for path, entry in files.items() if self.files.get(path) != entry]
        for path in rest:  # a file written again (another inode), or one the process never saw
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{target}/{path}")
        link_files(str(source), target, rest, self.exact)
        return True

    def _take_from_the_end(self, source: Path) -> None:
        """Link the paths from the last one back while the process links them from the first
        on, until the two meet. Each side marks a path as its own before linking it and stops at
        the first the other has marked: a path may be linked by both (the second finds it there),
        never by neither."""
        made, target = {""}, str(self.target)
        for index in range(len(self.paths) - 1, -1, -1):
            if index < self.marks[LINKER]:
                break
            self.marks[BUILD] = index
            path = self.paths[index]
            folder = path.rpartition("/")[0]
            if folder not in made:
                make_folders(target, folder, made, self.exact)
            with contextlib.suppress(FileExistsError, FileNotFoundError):  # see above; taken out
                os.link(f"{source}/{path}", f"{target}/{path}")

    def stop(self) -> None:
        """End the process if it still runs (the build failed or was interrupted), and wait for it."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
            self.pid = None


def _make_root(target: Path, exact: bool) -> None:
    os.mkdir(target, DIRECTORY_MODE)
    if not exact:
        os.chmod(target, DIRECTORY_MODE)


def _link_at(source: int, into: int, paths: list[str], exact: bool, marks: memoryview) -> None:
    """link_files between two folders held by descriptors, from the first path on until the
    build has taken the rest (see EarlyLinker._take_from_the_end)."""
    made = {""}
    for index, path in enumerate(paths):
        if index >= marks[BUILD]:
            break
        marks[LINKER] = index + 1
        folder = path.rpartition("/")[0]
        if folder not in made:
            make_folders("", folder, made, exact, into)
        with contextlib.suppress(FileExistsError, FileNotFoundError):  # the build's too; taken out
            os.link(path, path, src_dir_fd=source, dst_dir_fd=into)

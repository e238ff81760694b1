"""Write a built site to its output folder, all or nothing.

The only code that writes the site: a new tree is written beside the output folder, then swapped
in with one atomic exchange (two renames where the system has none), so readers and a failed
build never see half a site.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from .model import UserError
from .status import MARKER, Entry, digest, signature

DIRECTORY_MODE = 0o755
FILE_MODE = 0o644
# Written into every output folder: a folder that holds it is sitegen's to replace whole.
MARKER_TEXT = b"sitegen writes this folder and replaces all of it on each build: put your files in static/\n"
# What builds from before the marker wrote at the top of the folder (besides the new build's names).
BUILD_NAMES = frozenset({"index.html", "404.html", "feed.xml", "sitemap.xml", ".nojekyll", "assets",
                         "context", "tags", "page"})


class UnsafePathError(ValueError):
    """An output path that would land outside the output folder."""


class OutputError(UserError):
    """A reason not to replace the output folder."""


def check_output_path(path: str) -> None:
    """Refuse a path that is not plain and inside the output folder: absolute, empty, with an
    empty, `.` or `..` part, a backslash, NUL or line break. String tests only: it runs for
    every file a build writes."""
    wrapped = f"/{path}/"
    if ("//" in wrapped or "/./" in wrapped or "/../" in wrapped or "\\" in path or "\x00" in path
            or "\n" in path or "\r" in path):
        raise UnsafePathError(f"refusing to write {path!r}: it is not a plain path inside the output folder")


class StagedOutput:
    """A new tree written beside the output folder, swapped in by commit(), removed on failure.

    Pages can be written as soon as they are rendered, so a large site is never held in memory.
    write() and keep() return each file's Entry, so that a later build can keep what it finds
    unchanged: keep() puts the output folder's own file in the new tree (a hard link, or a copy
    where links are impossible). Given a `spare` (an earlier site and what it holds), the new
    tree is that one brought up to date instead of a fresh folder: only what differs is written.
    """

    def __init__(self, out: Path, force: bool = False, current: dict[str, Entry] | None = None,
                 spare: tuple[Path, dict[str, Entry]] | None = None,
                 intact: Callable[[str], bool] = lambda path: False) -> None:
        self.out = out.absolute()
        self.force = force  # replace the folder even if it holds files sitegen did not write
        self.current = current or {}  # what the output folder was left holding
        self.intact = intact  # whether the output folder's file at path is still as it was left
        self.spare = spare[1] if spare else None
        self.staging: Path | None = spare[0] if spare else None
        self.made = {""}
        self.old: Path | None = None  # where the replaced site is after commit()
        self.exact_modes = exact_modes()

    def __enter__(self) -> StagedOutput:
        self._start()  # before any worker forks: they all write into this one folder
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if self.staging is not None:  # not committed: an error, or nothing to publish
            if self.spare is None:  # a spare stays: the caller's record says it is not to be trusted
                shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None

    def _start(self) -> str:
        if self.staging is None:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            remove_leftovers(self.out)
            self.staging = self.out.parent / f".{self.out.name}.new-{os.getpid()}-{os.urandom(4).hex()}"
            self.staging.mkdir(mode=DIRECTORY_MODE)
            os.chmod(self.staging, DIRECTORY_MODE)
        return str(self.staging)

    def write(self, path: str, data: bytes) -> Entry:
        check_output_path(path)
        base = self._start()
        hashed = digest(data)
        if self.spare is not None:
            if (there := self._in_spare(base, path, hashed)) is not None:
                return there
        elif (there := self.current.get(path)) is not None and there[0] == hashed and self.intact(path):
            return self.keep(path)
        self._folders(base, path)
        target = os.path.join(base, path)
        # O_EXCL: a path written twice is a bug, never an overwrite. Plain system calls: a file
        # object would also ask whether the file is a terminal, and where it stands.
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
            status = os.fstat(descriptor)  # its size and time as they stay
        finally:
            os.close(descriptor)
        if not self.exact_modes:
            os.chmod(target, FILE_MODE)
        return hashed, signature(status)

    def written_elsewhere(self, path: str, entry: Entry) -> None:
        """Another process wrote path into the new tree (see write): a later write or keep of it
        must know what the file there now holds."""
        if self.spare is not None:
            self.spare[path] = entry

    def discard(self, path: str) -> None:
        """Take a file written into the new tree out of it again, so that it can be written anew."""
        base = self._start()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(base, path))
        if self.spare is not None:
            self.spare.pop(path, None)

    def keep(self, path: str) -> Entry:
        """The output folder's file at path, unchanged, in the new tree."""
        entry = self.current[path]
        base = self._start()
        if self.spare is not None and (there := self._in_spare(base, path, entry[0])) is not None:
            return there
        self._folders(base, path)
        try:
            os.link(self.out / path, os.path.join(base, path))
            return entry
        except OSError:  # no hard links here (or across devices): a copy will do
            shutil.copyfile(self.out / path, os.path.join(base, path))
            os.chmod(os.path.join(base, path), FILE_MODE)
            return entry[0], signature(os.lstat(os.path.join(base, path)))

    def _in_spare(self, base: str, path: str, wanted: bytes) -> Entry | None:
        """The spare's file at path if it holds `wanted` (by digest) and is sound; else None,
        with any other file at path removed, never written into: it may be linked elsewhere.

        A spare's file that is also the output folder's (a link: one inode) was changed if that
        one was: it is sound only if the output folder's file is as it was left."""
        assert self.spare is not None
        there = self.spare.get(path)
        if there is None:
            return None
        current = self.current.get(path)
        if there[0] == wanted and (current is None or current[1][0] != there[1][0] or self.intact(path)):
            return there
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(base, path))
        return None

    def _folders(self, base: str, path: str) -> None:
        folder = path.rpartition("/")[0]
        if folder not in self.made:
            make_folders(base, folder, self.made, self.exact_modes)

    def commit(self, paths: Iterable[str] = (), retire: bool = False) -> Entry:
        """Swap the new tree in. A spare loses every file not in `paths` (the site's files) first.

        The replaced site is deleted, or with `retire` left at self.old for the caller to keep.
        Returns the marker's entry."""
        staging = Path(self._start())
        if self.spare is not None:
            _prune(staging, set(self.spare).difference(paths, (MARKER,)))
        foreign = [] if self.force else foreign_entries(self.out, staging)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise OutputError(f"not replacing {self.out}: it holds files sitegen did not write ({shown})",
                              "move them elsewhere (files in static/ are copied into every build), or "
                              "build with --force to replace the folder and delete them")
        marker = self.write(MARKER, MARKER_TEXT)
        old = _swap(staging, self.out)
        self.staging = None
        if old is not None and not retire:
            shutil.rmtree(old, ignore_errors=True)
            old = None
        self.old = old
        return marker


def exact_modes() -> bool:
    """Whether files and folders get the modes asked for (0644, 0755) without a chmod: with the
    usual umasks (022, 002), not with a stricter one (077 would hide the site from its server)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask & 0o022 == mask


def make_folders(base: str, folder: str, made: set[str], exact: bool, base_fd: int | None = None) -> None:
    """base/folder and the folders above it that are not in `made` (one mkdir each, no stat),
    with mode 0755 (a chmod each unless `exact`: see exact_modes); `made` gets them. With
    `base_fd`, base is the folder that descriptor holds (base itself is then '')."""
    parts = folder.split("/")
    for depth in range(1, len(parts) + 1):
        partial = "/".join(parts[:depth])
        if partial not in made:
            with contextlib.suppress(FileExistsError):  # made by another worker
                os.mkdir(os.path.join(base, partial), DIRECTORY_MODE, dir_fd=base_fd)
            if not exact:
                os.chmod(os.path.join(base, partial), DIRECTORY_MODE, dir_fd=base_fd)
            made.add(partial)


def _prune(tree: Path, paths: set[str]) -> None:
    """Delete these files of tree, then the folders they leave empty."""
    folders = set()
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tree / path)
        while "/" in path:
            path = path.rpartition("/")[0]
            folders.add(path)
    for folder in sorted(folders, key=lambda folder: -folder.count("/")):
        with contextlib.suppress(OSError):  # not empty: it still holds pages
            os.rmdir(tree / folder)


def foreign_entries(out: Path, staging: Path) -> list[str]:
    """What of an existing output folder a build may not delete: nothing if it is marked as ours.

    A folder built before the marker existed is ours when it has a build's index.html and
    .nojekyll and nothing else but names the new build writes, names every build wrote, and
    pages of older builds (folders with an index.html): never a hidden folder such as .git.
    """
    if not out.is_dir() or out.is_symlink() or (out / MARKER).is_file():
        return []
    entries = sorted(os.listdir(out))
    if not ((out / "index.html").is_file() and (out / ".nojekyll").is_file()):
        return entries
    written = set(os.listdir(staging)) | BUILD_NAMES
    return [name for name in entries if name not in written and not _old_page(out / name)]


def _old_page(path: Path) -> bool:
    return (not path.name.startswith(".") and path.is_dir() and not path.is_symlink()
            and (path / "index.html").is_file())


def write_site(files: Mapping[str, bytes], out: Path, force: bool = False) -> None:
    for path in files:
        check_output_path(path)
    with StagedOutput(out, force) as staged:
        for path in sorted(files):
            staged.write(path, files[path])
        staged.commit()


def _swap(staging: Path, out: Path) -> Path | None:
    """Put staging in place of out; return where the old site now is (None: there was none)."""
    if not out.exists():
        os.rename(staging, out)
        return None
    if not out.is_dir() or out.is_symlink():
        raise NotADirectoryError(f"{out} exists and is not a folder: refusing to replace it")
    if _exchange(staging, out):  # one atomic step: the old site is now in staging
        return staging
    retired = out.parent / f".{out.name}.old-{os.getpid()}-{os.urandom(4).hex()}"
    os.rename(out, retired)
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(retired, out)
        raise
    return retired


RENAME_EXCHANGE = 2  # linux/fs.h
AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one atomic step (Linux's renameat2 with RENAME_EXCHANGE), so that no
    moment, and no crash, ever finds the output folder missing. False where it is unavailable:
    another system, an old kernel or C library, or a file system without it."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here: a first build has no folder to swap with, and ctypes costs 2 ms to import

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE) == 0


def remove_leftovers(out: Path) -> None:
    """Temporary folders of builds that crashed; a running build's own folders are left alone.

    A build that died between its two renames left no output folder, only the old one set
    aside: that goes back in place."""
    for leftover in sorted(out.parent.glob(f".{out.name}.*-*-*")):
        kind, _, rest = leftover.name.removeprefix(f".{out.name}.").partition("-")
        pid = rest.split("-", 1)[0]
        if kind not in ("new", "old") or not pid.isdigit():
            continue
        if int(pid) != os.getpid() and _alive(int(pid)):
            continue
        if kind == "old" and not os.path.lexists(out):
            os.rename(leftover, out)
            continue
        shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

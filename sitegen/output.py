"""Write a built site to its output folder, all or nothing.

The only code that writes the site: a new tree is written beside the output folder, then swapped
in with one atomic exchange (two renames where the system has none), so readers and a failed
build never see half a site.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from .model import UserError

DIRECTORY_MODE = 0o755
FILE_MODE = 0o644
# Written into every output folder: a folder that holds it is sitegen's to replace whole.
MARKER = ".sitegen"
MARKER_TEXT = b"sitegen writes this folder and replaces all of it on each build: put your files in static/\n"
# What builds from before the marker wrote at the top of the folder (besides the new build's names).
BUILD_NAMES = frozenset({"index.html", "404.html", "feed.xml", "sitemap.xml", ".nojekyll", "assets",
                         "context", "tags", "page"})


class UnsafePathError(ValueError):
    """An output path that would land outside the output folder."""


class OutputError(UserError):
    """A reason not to replace the output folder."""


def check_output_path(path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    unsafe = (not path or path.startswith("/") or "\\" in path or "\x00" in path
              or any(part in ("", ".", "..") for part in path.split("/"))
              or any(char in path for char in "\n\r"))
    if unsafe:
        raise UnsafePathError(f"refusing to write {path!r}: it is not a plain path inside the output folder")
    return relative


class StagedOutput:
    """A new tree written beside the output folder, swapped in by commit(), removed on failure.

    Pages can be written as soon as they are rendered, so a large site is never held in memory.
    """

    def __init__(self, out: Path, force: bool = False) -> None:
        self.out = out.absolute()
        self.force = force  # replace the folder even if it holds files sitegen did not write
        self.staging: Path | None = None
        self.made = {""}
        mask = os.umask(0)
        os.umask(mask)
        self.exact_modes = mask & 0o022 == mask  # the usual umasks (022, 002): 0644 and 0755 as asked

    def __enter__(self) -> StagedOutput:
        self._start()  # before any worker forks: they all write into this one folder
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if self.staging is not None:  # not committed: an error, or nothing to publish
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None

    def _start(self) -> str:
        if self.staging is None:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            _remove_leftovers(self.out)
            self.staging = self.out.parent / f".{self.out.name}.new-{os.getpid()}-{secrets.token_hex(4)}"
            self.staging.mkdir(mode=DIRECTORY_MODE)
            os.chmod(self.staging, DIRECTORY_MODE)
        return str(self.staging)

    def write(self, path: str, data: bytes) -> None:
        check_output_path(path)
        base = self._start()
        folder = path.rpartition("/")[0]
        if folder not in self.made:
            parts = folder.split("/")
            for depth in range(1, len(parts) + 1):
                partial = "/".join(parts[:depth])
                if partial not in self.made:
                    with contextlib.suppress(FileExistsError):  # made by another worker
                        os.mkdir(os.path.join(base, partial), DIRECTORY_MODE)
                    if not self.exact_modes:
                        os.chmod(os.path.join(base, partial), DIRECTORY_MODE)
                    self.made.add(partial)
        target = os.path.join(base, path)
        # O_EXCL: a path written twice is a bug, never an overwrite
        with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb") as file:
            file.write(data)
        if not self.exact_modes:
            os.chmod(target, FILE_MODE)

    def commit(self) -> None:
        staging = Path(self._start())
        foreign = [] if self.force else foreign_entries(self.out, staging)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise OutputError(f"not replacing {self.out}: it holds files sitegen did not write ({shown})",
                              "move them elsewhere (files in static/ are copied into every build), or "
                              "build with --force to replace the folder and delete them")
        self.write(MARKER, MARKER_TEXT)
        _swap(staging, self.out)
        self.staging = None


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


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    if not out.is_dir() or out.is_symlink():
        raise NotADirectoryError(f"{out} exists and is not a folder: refusing to replace it")
    if _exchange(staging, out):  # one atomic step: the old site is now in staging
        shutil.rmtree(staging, ignore_errors=True)
        return
    retired = out.parent / f".{out.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    os.rename(out, retired)
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(retired, out)
        raise
    shutil.rmtree(retired, ignore_errors=True)


RENAME_EXCHANGE = 2  # linux/fs.h
AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one atomic step (Linux's renameat2 with RENAME_EXCHANGE), so that no
    moment, and no crash, ever finds the output folder missing. False where it is unavailable:
    another system, an old kernel or C library, or a file system without it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE) == 0


def _remove_leftovers(out: Path) -> None:
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

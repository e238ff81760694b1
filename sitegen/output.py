"""Write a built site to its output folder, all or nothing.

The only code that writes the site: a new tree is written beside the output folder, then swapped
in with two renames, so readers and a failed build never see half a site.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

DIRECTORY_MODE = 0o755
FILE_MODE = 0o644


class UnsafePathError(ValueError):
    """An output path that would land outside the output folder."""


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

    def __init__(self, out: Path) -> None:
        self.out = out.absolute()
        self.staging: Path | None = None
        self.made = {""}
        mask = os.umask(0)
        os.umask(mask)
        self.exact_modes = mask & 0o022 == mask  # the usual umask: 0644 files and 0755 folders

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
        with open(target, "xb") as file:  # "x": a path written twice is a bug, never an overwrite
            file.write(data)
        if not self.exact_modes:
            os.chmod(target, FILE_MODE)

    def commit(self) -> None:
        staging = Path(self._start())
        _swap(staging, self.out)
        self.staging = None


def write_site(files: Mapping[str, bytes], out: Path) -> None:
    for path in files:
        check_output_path(path)
    with StagedOutput(out) as staged:
        for path in sorted(files):
            staged.write(path, files[path])
        staged.commit()


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    if not out.is_dir() or out.is_symlink():
        raise NotADirectoryError(f"{out} exists and is not a folder: refusing to replace it")
    retired = out.parent / f".{out.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    os.rename(out, retired)
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(retired, out)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _remove_leftovers(out: Path) -> None:
    """Temporary folders of builds that crashed; a running build's own folder is left alone."""
    for leftover in out.parent.glob(f".{out.name}.*-*-*"):
        kind, _, rest = leftover.name.removeprefix(f".{out.name}.").partition("-")
        pid = rest.split("-", 1)[0]
        if kind not in ("new", "old") or not pid.isdigit():
            continue
        if kind == "new" and int(pid) != os.getpid() and _alive(int(pid)):
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

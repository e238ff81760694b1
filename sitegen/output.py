"""Write a built site to its output folder, all or nothing.

The only code that writes the site: a new tree is written beside the output folder, then swapped
in with two renames, so readers and a failed build never see half a site.
"""

from __future__ import annotations

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


def write_site(files: Mapping[str, bytes], out: Path) -> None:
    out = out.absolute()
    for path in files:
        check_output_path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out)
    staging = out.parent / f".{out.name}.new-{os.getpid()}-{secrets.token_hex(4)}"
    staging.mkdir(mode=DIRECTORY_MODE)
    try:
        os.chmod(staging, DIRECTORY_MODE)
        _write_tree(files, staging)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_tree(files: Mapping[str, bytes], root: Path) -> None:
    """Write every file below root, a fresh folder that only this build has touched."""
    mask = os.umask(0)
    os.umask(mask)
    exact_modes = mask & 0o022 == mask  # the usual umask: new files get 0644 and folders 0755
    made = {""}
    base = str(root)
    for path in sorted(files):
        folder = path.rpartition("/")[0]
        if folder not in made:
            parts = folder.split("/")
            for depth in range(1, len(parts) + 1):
                partial = "/".join(parts[:depth])
                if partial not in made:
                    os.mkdir(os.path.join(base, partial), DIRECTORY_MODE)
                    if not exact_modes:
                        os.chmod(os.path.join(base, partial), DIRECTORY_MODE)
                    made.add(partial)
        target = os.path.join(base, path)
        with open(target, "xb") as file:  # "x": never follow a link planted in the new folder
            file.write(files[path])
        if not exact_modes:
            os.chmod(target, FILE_MODE)


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

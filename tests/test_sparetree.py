"""The spare tree made while a first build renders its lists (sitegen.sparetree.EarlyLinker): in
the end it holds the site's files, each the very file (the same inode), and nothing else."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from sitegen import sparetree
from sitegen.cachefile import CACHE
from sitegen.output import exact_modes
from sitegen.sparetree import EarlyLinker
from sitegen.status import Entry, digest
from tests.test_incremental import SIZE, Capture, build
from tests.test_incremental import pristine as pristine  # a fixture
from tests.test_incremental import site as site  # a fixture
from tests.test_parallel import child_processes


def write(tree: Path, path: str, text: str) -> Entry:
    (tree / path).parent.mkdir(parents=True, exist_ok=True)
    (tree / path).write_text(text)
    status = os.stat(tree / path)
    return digest(text.encode()), (status.st_ino, status.st_size, status.st_mtime_ns)


def files_of(tree: Path) -> dict[str, int]:
    """Each file's path and inode."""
    return {path.relative_to(tree).as_posix(): path.stat().st_ino
            for path in tree.rglob("*") if path.is_file()}


def folders_of(tree: Path) -> set[Path]:
    return {path.relative_to(tree) for path in tree.rglob("*") if path.is_dir()}


def test_the_spare_ends_with_the_sites_files_whatever_changed_while_it_was_linked(tmp_path: Path) -> None:
    new, spare = tmp_path / "new", tmp_path / "spare"
    early = {"a/index.html": write(new, "a/index.html", "a"), "b/index.html": write(new, "b/index.html", "b"),
             "c/index.html": write(new, "c/index.html", "c")}
    linker = EarlyLinker(new, spare, early)
    (new / "b/index.html").unlink()  # rendered again: another file
    site = {"b/index.html": write(new, "b/index.html", "b, again"), "c/index.html": early["c/index.html"],
            "tags/x/index.html": write(new, "tags/x/index.html", "x")}  # and a page that came after
    (new / "a/index.html").unlink()  # taken out: on no page of the site
    os.rename(new, tmp_path / "public")  # swapped in meanwhile
    assert linker.finish(tmp_path / "public", site)
    assert files_of(spare) == files_of(tmp_path / "public")
    assert folders_of(spare) == {Path("b"), Path("c"), Path("tags"), Path("tags/x")}  # no a/ left empty
    assert oct(spare.stat().st_mode & 0o777) == oct(0o755) or not exact_modes()
    assert child_processes() == []


def test_a_linker_stopped_midway_leaves_no_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a build that failed or was interrupted stops it: at once, however much is left."""
    monkeypatch.setattr(sparetree, "_link_at", lambda *_: time.sleep(60))  # in the forked process: busy
    new = tmp_path / "new"
    linker = EarlyLinker(new, tmp_path / "spare", {"p/index.html": write(new, "p/index.html", "p")})
    started = time.monotonic()
    linker.stop()
    assert time.monotonic() - started < 10
    assert child_processes() == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_first_builds_spare_is_the_site_linked(site: Path, capsys: Capture, jobs: str) -> None:
    """With workers the spare is linked while the lists render; without, afterwards: the same."""
    build(site, capsys, "--jobs", jobs)
    public, spare = files_of(site / "public"), files_of(site / CACHE / "spare")
    assert spare == public and len(public) > 2 * SIZE
    assert folders_of(site / CACHE / "spare") == folders_of(site / "public")
    assert not (site / CACHE / "updating").exists()


@pytest.mark.parametrize("linked_there", [0, 150, 300])
def test_the_build_links_from_the_end_what_the_process_has_not_reached(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, linked_there: int) -> None:
    """However far the forked process got (none of the files, half, all), the two sides
    together link each one: the process from the first on, the build from the last back."""
    real = sparetree._link_at

    def as_far_as(source: int, into: int, paths: list[str], exact: bool, marks: Any) -> None:
        marks[sparetree.LINKER] = linked_there  # taken at once, then linked
        alone = memoryview(bytearray(8)).cast("I")  # what the process sees: it stops there
        alone[sparetree.LINKER], alone[sparetree.BUILD] = 0, linked_there
        real(source, into, paths, exact, alone)

    monkeypatch.setattr(sparetree, "_link_at", as_far_as)  # in the forked process
    new = tmp_path / "new"
    files = {f"p{number:03d}/index.html": write(new, f"p{number:03d}/index.html", str(number))
             for number in range(300)}
    linker = EarlyLinker(new, tmp_path / "spare", files)
    deadline = time.monotonic() + 10
    while linker.marks[sparetree.LINKER] != linked_there and time.monotonic() < deadline:
        time.sleep(0.001)  # the process has taken its part
    assert linker.finish(new, files)
    assert files_of(tmp_path / "spare") == files_of(new)
    assert linker.marks[sparetree.BUILD] == linked_there  # the build took the rest, and no more

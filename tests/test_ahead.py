"""The answers about the site's files that a forked process prepares while `sitegen build` starts
(sitegen.ahead): the ones the build would find itself, used by the command, and never trusted
once another build may have made them stale.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sitegen import ahead as ahead_module
from sitegen import cache as stored
from sitegen import incremental, parallel
from sitegen.ahead import look_ahead
from sitegen.build import Options
from sitegen.cachefile import CACHE
from sitegen.cli import main
from sitegen.fronttags import quick_front_tags
from sitegen.status import digest, is_annotation, scan_sources
from tests.test_errors import REPO
from tests.test_incremental import SIZE, Capture, annotation, assert_as_fresh, build, edit_note
from tests.test_incremental import pristine as pristine  # a fixture
from tests.test_incremental import site as site  # a fixture


@pytest.fixture(autouse=True)
def no_threads() -> None:
    # look_ahead never forks a process that runs threads; these tests need it to fork
    assert threading.active_count() == 1, f"threads left running: {threading.enumerate()}"


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The roots the build scanned for source files itself (not through the forked process)."""
    scanned: list[Path] = []
    original = incremental.scan_sources

    def counted(root: Path, problems: list[Any]) -> Any:
        scanned.append(root)
        return original(root, problems)

    monkeypatch.setattr(incremental, "scan_sources", counted)
    return scanned


def page(root: Path, number: int) -> Path:
    return root / "public" / f"a{number:05d}" / "index.html"


def change_in_place(path: Path) -> None:
    """What an editor saving over a file does: the same inode, new bytes."""
    with open(path, "r+b") as file:
        file.seek(0)
        file.write(b"<!-- edited by hand -->")


def looked(root: Path) -> tuple[Any, Any]:
    """The answers about the sources and the output folder."""
    ahead = look_ahead(root, root / "public")
    assert ahead is not None
    try:
        return ahead.sources(), ahead.outputs()
    finally:
        ahead.close()


def test_the_answers_are_those_the_build_would_find_itself(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    sources, outputs = looked(site)
    refused: list[tuple[str, str]] = []
    assert sources.found == scan_sources(site, refused)
    assert sources.refused == refused == []
    assert len(sources.found) > 2 * SIZE
    cache, _ = stored.load(site / CACHE)
    assert outputs.cache == cache.identity != (0, 0, 0)
    assert outputs.out_inode == os.stat(site / "public").st_ino
    assert outputs.unlike == frozenset()


def test_output_files_changed_by_hand_are_named_and_rewritten(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    change_in_place(page(site, 3))
    (site / "public" / "a00004" / "index.html").unlink()
    _, outputs = looked(site)
    assert outputs.unlike == {"a00003/index.html", "a00004/index.html"}
    edit_note(site, 5)
    build(site, capsys)
    assert_as_fresh(site, capsys)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_first_build_has_its_seeds_read_ahead(site: Path, capsys: Capture, scans: list[Path], jobs: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """No cache yet: every source is read for its digest, the seeds by the forked process, after
    the annotations; the workers (or the build itself, without them) digest each seed they parse,
    for the article's record."""
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    first = look_ahead(site, site / "public")
    assert first is not None and first.first
    try:
        sources = first.sources()
        assert len(first.annotations_read()) == SIZE  # none taken here
        digests = first.seed_digests()
        assert first.outputs() is None  # no cache to compare the output folder with
    finally:
        first.close()
    seeds = sorted(path for path in sources.found if path.startswith("seeds/"))
    assert len(seeds) == SIZE and sorted(digests) == seeds
    assert all(digests[path] == digest((site / path).read_bytes()) for path in seeds)
    build(site, capsys, "--jobs", jobs)
    assert scans == []  # the build took the answers
    cache, _ = stored.load(site / CACHE)
    assert all(cache.sources[path][1] == digests[path] for path in seeds)
    records = [cache.parsed[path] for path in cache.sources if is_annotation(path)]
    assert len(records) == SIZE and all(record.seed_digest == digests[record.seed] for record in records)
    assert_as_fresh(site, capsys)


def test_a_build_with_a_cache_takes_the_answers_instead_of_looking_itself(
        site: Path, capsys: Capture, scans: list[Path]) -> None:
    build(site, capsys)
    edit_note(site, 2)
    assert "1 rendered" in build(site, capsys)
    assert scans == []
    assert_as_fresh(site, capsys)


def test_a_failed_look_ahead_leaves_the_build_to_look_itself(
        site: Path, capsys: Capture, scans: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    build(site, capsys)

    def broken(*_: Any) -> Any:
        raise OSError("the disk went away")

    monkeypatch.setattr(ahead_module, "scan_sources", broken)  # in the forked process
    monkeypatch.setattr(ahead_module, "_outputs", broken)
    change_in_place(page(site, 3))
    edit_note(site, 2)
    build(site, capsys)
    assert scans == [site]
    assert_as_fresh(site, capsys)


def test_a_seed_the_forked_process_could_not_read_is_read_by_the_build(
        site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ahead_module._seed_digests

    def missing_one(root: Path, found: Any) -> Any:
        digests = real(root, found)
        del digests[sorted(digests)[0]]
        return digests

    monkeypatch.setattr(ahead_module, "_seed_digests", missing_one)  # in the forked process
    build(site, capsys)
    cache, _ = stored.load(site / CACHE)
    first_seed = sorted(path for path in cache.sources if path.startswith("seeds/"))[0]
    assert cache.sources[first_seed][1] == digest((site / first_seed).read_bytes())
    assert_as_fresh(site, capsys)


def test_a_first_builds_annotations_are_read_from_both_ends_never_skipped(
        site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The build takes the annotations from the first on, the forked process from the last back
    (before the seeds), each stopping where the other has been: together they read every one.
    Here the build takes the first half before the forked process begins on them (it waits for
    that: it is usually done before the build asks), then waits for it to be done."""
    real = ahead_module._annotations_read

    def after_the_first_half(root: Path, found: Any, marks: Any) -> Any:  # in the forked process
        deadline = time.monotonic() + 10
        while marks[ahead_module.MINE] < SIZE // 2 and time.monotonic() < deadline:
            time.sleep(0.001)
        return real(root, found, marks)

    monkeypatch.setattr(ahead_module, "_annotations_read", after_the_first_half)
    first = look_ahead(site, site / "public")
    assert first is not None and first.first
    try:
        sources = first.sources()
        annotations = [path for path in sources.found if is_annotation(path)]
        half = len(annotations) // 2
        mine = [path for index, path in enumerate(annotations[:half]) if first.take(index)]
        assert mine == annotations[:half]  # from the first on
        theirs = first.annotations_read()  # once it has met what this process took
        assert not any(first.take(index) for index in range(len(mine), len(annotations)))
    finally:
        first.close()
    assert set(theirs) >= set(annotations[len(mine):])  # every one after this process's
    for path, (found_digest, tags) in theirs.items():
        data = (site / path).read_bytes()
        assert found_digest == digest(data) and tags == quick_front_tags(data)


@pytest.mark.parametrize("build_takes", [False, True])
def test_a_first_build_takes_what_the_forked_process_read_or_reads_it_itself(
        site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch, build_takes: bool) -> None:
    """All the annotations left to the forked process; and none read there (it failed): the
    build's record of every source, and its output, are a build's from nothing."""
    if build_takes:
        monkeypatch.setattr(ahead_module, "_annotations_read", lambda *_: {})  # in the forked process
    else:
        monkeypatch.setattr(ahead_module.Ahead, "take", lambda self, index: False)
    build(site, capsys)
    cache, _ = stored.load(site / CACHE)
    annotations = [path for path in cache.sources if is_annotation(path)]
    assert len(annotations) == SIZE
    assert all(cache.sources[path][1] == digest((site / path).read_bytes()) for path in annotations)
    assert_as_fresh(site, capsys)


def test_answers_made_stale_by_another_build_are_not_trusted(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    stale = look_ahead(site, site / "public")
    assert stale is not None
    try:
        edit_note(site, 2)
        build(site, capsys)  # another build: a new output folder and cache, after the look
        change_in_place(page(site, 3))  # the stale answer says it is as the build left it
        edit_note(site, 4)
        result = incremental.build(site, site / "public", Options(jobs=1), ahead=stale)
        assert result.site is not None
    finally:
        stale.close()
    assert_as_fresh(site, capsys)


def test_a_link_out_of_the_site_is_refused_as_without_the_look_ahead(
        site: Path, capsys: Capture, tmp_path: Path) -> None:
    build(site, capsys)
    outside = tmp_path / "elsewhere.md"
    shutil.copy(annotation(site, 1), outside)
    (site / "content" / "linked.md").symlink_to(outside)
    code = main(["build", "--root", str(site), "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"content/linked.md: error: refusing to read a link to {outside}, outside the site's folder" in err


def test_answers_left_unread_end_the_process_quietly(site: Path, capsys: Capture) -> None:
    """A build that fails before it asks closes the pipe: the forked process, still scanning
    then, finds it closed when it answers, and ends without a word on the terminal."""
    build(site, capsys)
    script = f"""
import time
from pathlib import Path
from sitegen import ahead
scan = ahead.scan_sources
ahead.scan_sources = lambda *arguments: (time.sleep(0.3), scan(*arguments))[1]
looking = ahead.look_ahead(Path({str(site)!r}), Path({str(site / "public")!r}))
assert looking is not None
looking.close()
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_no_look_ahead_where_the_site_cannot_hold_a_cache(site: Path, capsys: Capture) -> None:
    """A read-only checkout builds without a cache, asking nothing ahead: a first build's look
    would read every seed for nothing, and the build would wait for it."""
    (site / CACHE).write_text("not a folder")
    assert look_ahead(site, site / "public") is None
    assert "Built" in build(site, capsys)

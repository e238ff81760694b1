"""Builds that reuse .sitegen-cache/: after any change, the output is byte for byte a fresh build's.

Each test builds a small generated site, changes it, builds again with the cache, and compares
public/ with a `--no-cache` build of the same sources into another folder.
"""

from __future__ import annotations

import gc
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegen import ahead, cachefile, incremental, parallel
from sitegen import cache as stored
from sitegen import site as sitepages
from sitegen.cli import INTERRUPTED, main
from sitegen.progress import Progress
from sitegen.seeds import parse_seed
from sitegen.site import FEED_SIZE
from sitegen.theme import Theme
from tests.test_parallel import child_processes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from corpus import make_corpus

REPO = Path(__file__).resolve().parent.parent

SIZE = 24
Capture = pytest.CaptureFixture[str]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "site"
    make_corpus(root, SIZE, jobs=1)
    return root


@pytest.fixture
def site(pristine: Path, tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(pristine, root)
    return root


def build(root: Path, capsys: Capture, *extra: str) -> str:
    code = main(["build", "--root", str(root), "--jobs", "1", *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out + err


def settle() -> None:
    """Wait until the site's files were copied RACY_NS ago: a build trusts their signatures
    from then on (before, each build reads them again, however quick it is)."""
    time.sleep(incremental.RACY_NS / 1e9)


def tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def assert_as_fresh(root: Path, capsys: Capture) -> None:
    """public/ is what a build without the cache makes of the same sources."""
    fresh = root.parent / "fresh"
    code = main(["build", "--root", str(root), "--no-cache", "--out", str(fresh), "--force", "-q",
                 "--jobs", "1"])
    capsys.readouterr()
    assert code == 0
    built, expected = tree(root / "public"), tree(fresh)
    assert sorted(built) == sorted(expected)
    different = [path for path in expected if built[path] != expected[path]]
    assert not different


def annotation(root: Path, number: int) -> Path:
    return root / "content" / f"a{number:05d}.md"


def seed(root: Path, number: int) -> Path:
    return next((root / "seeds").glob(f"{number:05d}_*.txt"))


def test_a_rebuild_reuses_everything_and_changes_nothing(site: Path, capsys: Capture) -> None:
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    before = {path: os.lstat(site / "public" / path).st_ino for path in tree(site / "public")}
    assert f"({SIZE} cached, 0 rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)
    after = {path: os.lstat(site / "public" / path).st_ino for path in tree(site / "public")}
    assert before == after  # not one file was rewritten


def test_editing_one_note_renders_one_article(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    build(site, capsys)  # the second build leaves a spare tree: the third updates it
    path = annotation(site, 7)
    path.write_text(path.read_text().replace(" the only source here", " the one source here", 1))
    assert f"({SIZE - 1:,} cached, 1 rendered)" in build(site, capsys)
    assert "the one source here" in (site / "public" / "a00007" / "index.html").read_text()
    assert_as_fresh(site, capsys)
    path.write_text(path.read_text().replace(" the one source here", " the sole source here", 1))
    assert f"({SIZE - 1:,} cached, 1 rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)


def test_the_summary_counts_cached_and_rendered_articles(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    seed(site, 3).write_text(seed(site, 3).read_text() + "\nA closing paragraph added later.\n")
    out = build(site, capsys)
    assert out.startswith(f"Built {SIZE} articles")
    assert out.rstrip().endswith(f"({SIZE - 1} cached, 1 rendered)")


# Each edit changes the site the way a user does; every one must give a fresh build's output.
def edit_note(root: Path, number: int) -> None:
    path = annotation(root, number)
    if path.exists():
        text = path.read_text()
        path.write_text(text.replace("\n## ", "\n## ", 1).replace(" source here", " source quoted here", 1))


def edit_quote(root: Path, number: int) -> None:
    """The first note quotes one word less: the highlight moves, in the page and in the feed."""
    path = annotation(root, number)
    if not path.exists():
        return
    text = path.read_text()
    start = text.index('\n## "') + 5
    quote = text[start : text.index('"', start)]
    seed_name = text.split("seed: ", 1)[1].split("\n", 1)[0].strip()
    seed_text = " ".join((root / "seeds" / seed_name).read_text().lower().split())
    shorter = quote.rsplit(" ", 1)[0]
    if " " in quote and seed_text.count(shorter.lower()) == 1:
        path.write_text(text[:start] + shorter + text[start + len(quote) :])


def edit_title(root: Path, number: int) -> None:
    path = annotation(root, number)
    if path.exists():
        lines = path.read_text().split("\n")
        lines = [f'title: "Retitled {number}"' if line.startswith("title:") else line for line in lines]
        path.write_text("\n".join(lines))


def edit_tags(root: Path, number: int) -> None:
    path = annotation(root, number)
    if path.exists():
        lines = path.read_text().split("\n")
        lines = ["tags: [Brand New Tag, Media]" if line.startswith("tags:") else line for line in lines]
        path.write_text("\n".join(lines))


def lengthen_last_note(root: Path, number: int, word: str = "more") -> None:
    """The last note's text gets a word longer (every annotation ends with a note)."""
    path = annotation(root, number)
    path.write_text(path.read_text().rstrip("\n") + f" {word}\n")


def make_draft(root: Path, number: int) -> None:
    path = annotation(root, number)
    if path.exists() and "\ndraft: true\n" not in path.read_text():
        path.write_text(path.read_text().replace("\n---\n", "\ndraft: true\n---\n", 1))


def extend_seed(root: Path, number: int) -> None:
    path = seed(root, number)
    path.write_text(path.read_text() + f"\nA paragraph added to seed {number}.\n")


def delete_annotation(root: Path, number: int) -> None:
    annotation(root, number).unlink(missing_ok=True)  # its seed becomes a plain article


def delete_article(root: Path, number: int) -> None:
    annotation(root, number).unlink(missing_ok=True)
    seed(root, number).unlink()


def add_plain_seed(root: Path, number: int) -> None:
    (root / "seeds" / f"9{number:04d}_new.txt").write_text(
        f"date 2030-01-{number % 28 + 1:02d} A new article number {number}. It has two sentences.\n")


def edit_context(root: Path, number: int) -> None:
    path = root / "content" / "context" / f"ctx-{number % 5 + 1}.md"
    path.write_text(path.read_text().replace("title: \"", "title: \"Renamed: ", 1))


def override_template(root: Path, number: int) -> None:
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "404.html").write_text(f"<!doctype html><title>Lost {number}</title><p>Lost.\n")


def touch_only(root: Path, number: int) -> None:
    path = seed(root, number)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))


def edit_config(root: Path, number: int) -> None:
    path = root / "sitegen.toml"
    path.write_text(path.read_text().replace('title = "', f'title = "{number} ', 1))


EDITS = [edit_note, edit_quote, edit_title, edit_tags, make_draft, extend_seed, delete_annotation,
         delete_article, add_plain_seed, edit_context, override_template, touch_only, edit_config]


@pytest.mark.parametrize("edit", EDITS, ids=lambda edit: edit.__name__)
def test_every_kind_of_change_gives_a_fresh_builds_output(edit: object, site: Path,
                                                          capsys: Capture) -> None:
    build(site, capsys)
    build(site, capsys)
    edit(site, 5)  # type: ignore[operator]
    build(site, capsys)
    assert_as_fresh(site, capsys)
    edit(site, 11)  # type: ignore[operator]
    build(site, capsys)  # the spare tree is the one from two builds ago: it must catch up
    assert_as_fresh(site, capsys)


@pytest.mark.parametrize("edit", [edit_note, edit_quote], ids=lambda edit: edit.__name__)
def test_an_edit_inside_articles_renders_them_alone_without_walking_the_site(
        edit: object, site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing that other pages show changed: only the articles' pages and the feed are made."""
    build(site, capsys)
    build(site, capsys)

    def walk(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole site was walked")

    for number in (3, 17, 3):
        monkeypatch.setattr(incremental, "build_site_reusing", walk)
        monkeypatch.setattr(incremental._Build, "_articles", walk)  # no record but theirs looked at
        monkeypatch.setattr(incremental, "_fails_checks", walk)
        before = (site / "public" / "feed.xml").read_bytes()
        edit(site, number)  # type: ignore[operator]
        assert f"({SIZE - 1:,} cached, 1 rendered)" in build(site, capsys)
        if edit is edit_quote:
            assert (site / "public" / "feed.xml").read_bytes() != before  # it shows the highlights
        monkeypatch.undo()
        assert_as_fresh(site, capsys)
    edit_title(site, 11)  # the whole site is walked: the articles rendered alone are kept
    assert f"({SIZE - 1:,} cached, 1 rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)


def test_an_edit_inside_every_article_at_once_renders_them_alone(
        site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to QUICK_UP_TO changed annotations take the quick path; beyond, the usual way."""
    build(site, capsys)
    build(site, capsys)
    monkeypatch.setattr(incremental, "build_site_reusing", lambda *args, **kwargs: 1 / 0)
    for number in range(SIZE):
        lengthen_last_note(site, number)
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    monkeypatch.undo()
    assert_as_fresh(site, capsys)
    monkeypatch.setattr(incremental, "QUICK_UP_TO", 1)
    for number in (4, 5):
        edit_quote(site, number)
    assert f"({SIZE - 2} cached, 2 rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)


def test_worker_processes_give_the_same_output_after_every_kind_of_change(
        site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers parse, anchor and render each article from its files (the main process keeps only
    records): the same bytes as a build without the cache, after every kind of change."""
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)  # workers even for 24 articles
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys, "--jobs", "2")
    assert_as_fresh(site, capsys)
    for number, edit in enumerate(EDITS):
        edit(site, number + 1)
        build(site, capsys, "--jobs", "2")
        assert_as_fresh(site, capsys)


@pytest.mark.parametrize(("jobs", "large"), [("1", True), ("2", True), ("2", False)])
def test_the_lists_pages_of_a_large_site_are_rendered_by_the_workers(
        jobs: str, large: bool, site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Index, tag and context pages of a large site are rendered together across the workers,
    each written where it is rendered; those of a smaller one in the main process, which is
    quicker than forking workers for them. The same bytes as a build without the cache."""
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    monkeypatch.setattr(sitepages, "PARALLEL_LISTS_FROM", 1 if large else SIZE + 1)
    main_process, in_main = os.getpid(), []
    render_page = Theme.render_page

    def counted(self: Theme, name: str, *arguments: Any, **options: Any) -> bytes:
        if os.getpid() == main_process:
            in_main.append(name)
        return render_page(self, name, *arguments, **options)

    monkeypatch.setattr(Theme, "render_page", counted)
    build(site, capsys, "--jobs", jobs)
    lists = {"index.html", "tag.html", "tags.html", "context.html", "context_index.html", "sitemap.xml"}
    assert bool(lists & set(in_main)) == (jobs == "1" or not large)
    assert_as_fresh(site, capsys)
    edit_context(site, 1)  # every page that cites it, and its own, again
    build(site, capsys, "--jobs", jobs)
    assert_as_fresh(site, capsys)


def test_a_template_error_in_a_worker_is_reported_as_in_the_main_process(
        site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    monkeypatch.setattr(sitepages, "PARALLEL_LISTS_FROM", 1)
    build(site, capsys)
    (site / "templates").mkdir(exist_ok=True)
    (site / "templates" / "tag.html").write_text('{% extends "base.html" %}\n{% block main %}\n'
                                                 "{{ tag.nothing.deeper }}\n{% endblock %}\n")
    errors = []
    for jobs in ("2", "1"):
        assert main(["build", "--root", str(site), "--jobs", jobs]) == 1
        errors.append(capsys.readouterr().err)
    assert errors[0] == errors[1]
    assert "templates/tag.html:3: error: " in errors[0]


def test_a_worker_killed_midway_fails_the_build_with_a_message_and_keeps_public(
        site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the system does to a process when memory runs out: the build stops with an error and
    a hint, no traceback, no worker left, public/ as it was; the next build is whole."""
    build(site, capsys)
    before = tree(site / "public")
    edit_context(site, 1)  # every article again: the workers take them
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    main_process, records_of = os.getpid(), incremental._Build._records_of

    def killed(self: Any, paths: list[str]) -> Any:
        if os.getpid() != main_process and any(path.endswith("a00005.md") for path in paths):
            os.kill(os.getpid(), signal.SIGKILL)
        return records_of(self, paths)

    monkeypatch.setattr(incremental._Build, "_records_of", killed)
    assert main(["build", "--root", str(site), "--jobs", "2"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("sitegen: error: a worker process ended without finishing its work\n  hint: ")
    assert "Traceback" not in err
    assert child_processes() == []
    assert tree(site / "public") == before
    monkeypatch.undo()
    build(site, capsys)
    assert_as_fresh(site, capsys)


@pytest.mark.parametrize("stage", ["anchor", "render"])
def test_a_build_interrupted_while_workers_run_leaves_none_behind(
        stage: str, site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C between two results of a pool: its workers end with the build, even while the
    interruption is still held (its traceback holds the build's frames, as a debugger or a log
    would). Left running, they would hold the lock on the cache, and the next build in the
    process (`serve`) would wait for them."""
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    main_process, interrupted = os.getpid(), []
    advance = Progress.advance

    def interrupting(self: Progress, count: int = 1) -> None:
        advance(self, count)
        if self.stage == stage and self.done == 3 and os.getpid() == main_process:
            interrupted.append(KeyboardInterrupt())
            raise interrupted[-1]

    monkeypatch.setattr(Progress, "advance", interrupting)
    assert main(["build", "--root", str(site), "--jobs", "2"]) == INTERRUPTED
    assert capsys.readouterr().err == "sitegen: interrupted\n"
    assert len(interrupted) == 1
    assert child_processes() == []
    monkeypatch.undo()
    build(site, capsys)
    assert_as_fresh(site, capsys)


@pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])
def test_ctrl_c_on_a_terminal_ends_the_build_and_its_workers_and_keeps_public(
        cached: bool, tmp_path: Path, capsys: Capture) -> None:
    """A terminal sends Ctrl-C's SIGINT to every process of the command, workers included. The
    build ends at once with 130 and one line, no traceback, no process left behind, public/ as
    it was and no staging folder; the next build is whole. (Workers that took the signal
    themselves once left the build waiting for their results for ever.)"""
    root = tmp_path / "site"
    make_corpus(root, 400, jobs=2)
    assert main(["build", "--root", str(root), "-q"]) == 0
    before = tree(root / "public")
    shutil.rmtree(root / cachefile.CACHE)  # so that the build with the cache is a whole one too
    importable = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=importable)
    command = [sys.executable, "-m", "sitegen", "build", "--jobs", "2", *([] if cached else ["--no-cache"])]
    child = subprocess.Popen(command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _pool_running(child.pid):  # the workers forked and started
            assert child.poll() is None and time.monotonic() < deadline, "no pool ever ran"
            time.sleep(0.002)
        os.killpg(child.pid, signal.SIGINT)  # as the terminal does: the whole process group
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:  # hung: end it and its workers, so that the test fails alone
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert (child.returncode, out, err) == (INTERRUPTED, "", "sitegen: interrupted\n")
    deadline = time.monotonic() + 10
    while _group(child.pid):  # the workers end with their pool; the kernel may lag a little
        assert time.monotonic() < deadline, f"left running: {_group(child.pid)}"
        time.sleep(0.01)
    assert tree(root / "public") == before
    assert not list(root.glob(".public*"))
    build(root, capsys)
    assert_as_fresh(root, capsys)


def _stat_fields(pid: str) -> list[str]:
    """Fields of /proc/PID/stat after the command name: state, parent, process group, ..."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(") ")[2].split()
    except OSError:  # ended meanwhile
        return []


def _pool_running(pid: int) -> bool:
    """Whether two workers run: children that ignore Ctrl-C, as workers do once started."""
    children = [entry for entry in os.listdir("/proc") if entry.isdigit()
                and _stat_fields(entry)[1:2] == [str(pid)]]
    return sum(_ignores_ctrl_c(child) for child in children) >= 2


def _ignores_ctrl_c(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            ignored = next(line for line in status if line.startswith("SigIgn:")).split()[1]
    except (OSError, StopIteration):  # ended meanwhile
        return False
    return bool(int(ignored, 16) & 1 << (signal.SIGINT - 1))


def _group(pid: int) -> list[str]:
    return [entry for entry in os.listdir("/proc") if entry.isdigit()
            and _stat_fields(entry)[2:3] == [str(pid)] and _stat_fields(entry)[0] != "Z"]


def test_seeds_parsed_by_workers_are_not_parsed_again_in_the_main_process(
        site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers send back each seed's problems with the records: the main process, which
    checks every new seed, parses none of them again for that (a second parse of the corpus)."""
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    in_main = []
    checking = []
    main_pid = os.getpid()

    def counting(path: str, data: bytes) -> Any:
        if os.getpid() == main_pid and checking:
            in_main.append(path)
        return parse_seed(path, data)

    def seed_problems(build: Any, digests: Any) -> Any:
        checking.append(True)
        try:
            return check(build, digests)
        finally:
            checking.clear()

    check = incremental._Build._seed_problems
    monkeypatch.setattr(incremental, "parse_seed", counting)
    monkeypatch.setattr(incremental._Build, "_seed_problems", seed_problems)
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys, "--jobs", "2")
    assert in_main == []
    seed(site, 3).write_bytes(b"\x00 not text")  # a broken seed is still reported, once
    assert main(["build", "--root", str(site), "--jobs", "2"]) == 1
    assert capsys.readouterr().err.count(f"{seed(site, 3).name}:1:1: error:") == 1


def materializations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The slugs of the articles this process parses and anchors again from their records, in
    order, from here on (a worker's are its own)."""
    materialized: list[str] = []
    materialize = incremental._Build.materialize

    def counting(build: Any, article: Any) -> Any:
        materialized.append(article.slug)
        return materialize(build, article)

    monkeypatch.setattr(incremental._Build, "materialize", counting)
    return materialized


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_articles_rendered_where_they_are_anchored_give_the_same_output(
        jobs: str, site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """From EARLY_FROM changed annotations on, each article is rendered by the worker that
    anchors it, with the tags read from the front matter first: the same bytes as --no-cache,
    on a cold build and after every kind of change, and no article is parsed twice to render it,
    not even for the feed, which takes its articles' texts from where they were rendered."""
    monkeypatch.setattr(incremental, "EARLY_FROM", 1)
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    materialized = materializations(monkeypatch)
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys, "--jobs", jobs)
    assert materialized == []
    assert_as_fresh(site, capsys)
    for number, edit in enumerate(EDITS):
        edit(site, number + 1)
        build(site, capsys, "--jobs", jobs)
        assert_as_fresh(site, capsys)


@pytest.mark.parametrize("own_feed", [False, True], ids=["default-feed", "own-feed"])
def test_the_feed_parses_again_only_what_no_worker_rendered_or_its_own_template_needs_whole(
        own_feed: bool, site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """A seed nobody annotates is an article no worker renders early: made for its page, and
    among the newest, made again for the feed, and only it. A site's own feed.xml sees whole
    articles: each of its articles is made again. Either way the feed is a fresh build's."""
    monkeypatch.setattr(incremental, "EARLY_FROM", 1)
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    (site / "seeds" / "zz-plain.txt").write_text("date 2099-01-01 A plain seed, the newest article.\n"
                                                 "\nIts second paragraph.\n", encoding="utf-8")
    if own_feed:
        (site / "templates").mkdir()
        feed = (REPO / "sitegen" / "theme" / "templates" / "feed.xml").read_text(encoding="utf-8")
        (site / "templates" / "feed.xml").write_text(feed.replace("<generator>", "<generator>own "))
    materialized = materializations(monkeypatch)
    build(site, capsys, "--jobs", "2")
    if own_feed:
        assert len(set(materialized)) == FEED_SIZE and materialized.count("zz-plain") == 2
        assert b"<generator>own sitegen" in (site / "public" / "feed.xml").read_bytes()
    else:
        assert materialized == ["zz-plain", "zz-plain"]
    assert b"A plain seed, the newest article." in (site / "public" / "feed.xml").read_bytes()
    assert_as_fresh(site, capsys)


def test_the_sites_tags_are_read_by_a_scan_of_the_front_matter_where_it_can(
        site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold build reads each annotation's tags with a line scan while it hashes the file; only
    a front matter the scan cannot read for certain is parsed as YAML beforehand."""
    monkeypatch.setattr(incremental, "EARLY_FROM", 1)
    parsed = []
    read = incremental.front_tags

    def counted(path: str, text: str) -> Any:
        parsed.append(path)
        return read(path, text)

    monkeypatch.setattr(incremental, "front_tags", counted)
    path = annotation(site, 5)
    text = path.read_text(encoding="utf-8")
    tags = re.search(r"^tags: \[(.*)\]$", text, re.M)
    assert tags
    block = "tags:\n" + "".join(f"  - {tag.strip()}\n" for tag in tags[1].split(","))
    path.write_text(text.replace(tags[0] + "\n", block), encoding="utf-8")
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    assert parsed == ["content/a00005.md"]
    assert_as_fresh(site, capsys)


def test_articles_rendered_early_with_a_wrong_guess_of_the_tags_are_rendered_again(
        site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the tags read first not be the site's, the pages rendered with them are taken out
    of the new tree and rendered again: on a cold build, a whole build and a quick one."""
    monkeypatch.setattr(incremental, "EARLY_FROM", 1)
    read, scan = incremental.front_tags, incremental.quick_front_tags

    def shouting(path: str, text: str) -> Any:  # the same tags, spelled as no article spells them
        tags, draft = read(path, text)
        return tuple(tag.upper() for tag in tags), draft

    def shouting_scan(data: bytes) -> Any:
        found = scan(data)
        return None if found is None else (tuple(tag.upper() for tag in found[0]), found[1])

    monkeypatch.setattr(incremental, "front_tags", shouting)
    monkeypatch.setattr(incremental, "quick_front_tags", shouting_scan)
    monkeypatch.setattr(ahead, "quick_front_tags", shouting_scan)  # a first build's, read there
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)
    for number in range(SIZE):  # every title: the whole site is built again, over the spare tree
        edit_title(site, number)
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)
    edit_note(site, 3)  # the quick path, which renders the edited article itself
    assert f"({SIZE - 1} cached, 1 rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_tag_missing_from_the_guess_leaves_its_articles_to_be_rendered_later(
        jobs: str, site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """An article with a tag the front matter's scan did not see cannot be rendered early (its
    tag has no page yet): the rest of its chunk is, each on its own, and it is rendered with
    the site's lists, into the same bytes as a fresh build's."""
    monkeypatch.setattr(incremental, "EARLY_FROM", 1)
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)
    tags = {tag for path in (site / "content").glob("a*.md") for tag in incremental.quick_front_tags(
        path.read_bytes())[0]}
    unseen = sorted(tags)[0]
    read, scan = incremental.front_tags, incremental.quick_front_tags

    def blind(path: str, text: str) -> Any:
        found, draft = read(path, text)
        return tuple(tag for tag in found if tag != unseen), draft

    def blind_scan(data: bytes) -> Any:
        found = scan(data)
        return None if found is None else (tuple(tag for tag in found[0] if tag != unseen), found[1])

    monkeypatch.setattr(incremental, "front_tags", blind)
    monkeypatch.setattr(incremental, "quick_front_tags", blind_scan)
    monkeypatch.setattr(ahead, "quick_front_tags", blind_scan)
    rendered_alone = []
    alone = incremental._render_alone

    def counting(shared: Any, article: Any) -> Any:
        rendered_alone.append(article.slug)
        return alone(shared, article)

    monkeypatch.setattr(incremental, "_render_alone", counting)
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys, "--jobs", jobs)
    if jobs == "1":  # in this process: the chunks that held an article with the unseen tag
        assert rendered_alone and len(set(rendered_alone)) == len(rendered_alone)
    assert_as_fresh(site, capsys)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(EDITS), st.integers(0, SIZE - 1)), min_size=1, max_size=4),
       st.sampled_from([1, incremental.EARLY_FROM]))
def test_any_sequence_of_changes_gives_a_fresh_builds_output(
        pristine: Path, tmp_path_factory: pytest.TempPathFactory, capsys: Capture, steps: list,
        early_from: int) -> None:
    """Also with every changed article rendered where it is anchored (early_from 1)."""
    root = tmp_path_factory.mktemp("sequence") / "site"
    shutil.copytree(pristine, root)
    usual, incremental.EARLY_FROM = incremental.EARLY_FROM, early_from
    try:
        build(root, capsys)
        for edit, number in steps:
            try:
                edit(root, number)
            except StopIteration:  # the seed was deleted by an earlier step
                continue
            build(root, capsys)
    finally:
        incremental.EARLY_FROM = usual
    assert_as_fresh(root, capsys)


def test_a_build_leaves_no_object_frozen_out_of_garbage_collection(site: Path, capsys: Capture) -> None:
    """The loaded cache is frozen for the build only: a process that builds again and again
    (a test run, a program using sitegen) must not keep every build's garbage."""
    build(site, capsys)
    edit_note(site, 2)
    build(site, capsys)
    assert gc.get_freeze_count() == 0


def test_a_damaged_cache_is_ignored(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    cache = site / cachefile.CACHE / cachefile.CACHE_FILE
    cache.write_bytes(cache.read_bytes()[: len(cache.read_bytes()) // 2])
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)
    cache.write_bytes(b"\x80\x05 not a cache at all")
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)
    data = bytearray(cache.read_bytes())  # one flipped bit, deep inside: the checksum sees it
    data[len(data) // 2] ^= 0x04
    cache.write_bytes(bytes(data))
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    cache.write_bytes(b"")
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)


def test_a_build_appends_what_changed_to_the_cache_and_rewrites_it_whole_now_and_then(
        site: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """A few hundred bytes per edited article, not the whole cache: loading the file applies
    the changes in turn, and gives the very state the build saved."""
    saved = []

    def keeping(folder: Path, cache: stored.Cache) -> None:
        saved.append(cache._state())
        save(folder, cache)

    save = incremental.save
    monkeypatch.setattr(incremental, "save", keeping)
    settle()
    build(site, capsys)
    cache_file = site / cachefile.CACHE / cachefile.CACHE_FILE
    rewritten = False
    for step in range(stored.MAX_CHANGES + 2):
        before, size = stored.load(site / cachefile.CACHE)[0].changes, cache_file.stat().st_size
        lengthen_last_note(site, step % SIZE, f"edited{step}")
        assert f"({SIZE - 1} cached, 1 rendered)" in build(site, capsys)
        loaded, reason = stored.load(site / cachefile.CACHE)
        assert not reason
        if before < stored.MAX_CHANGES:
            assert loaded.changes == before + 1
            assert 0 < cache_file.stat().st_size - size < size / 20
        else:
            assert loaded.changes == 0 and cache_file.stat().st_size < size
            rewritten = True
        assert loaded._state() == saved[-1]
    assert rewritten
    assert_as_fresh(site, capsys)
    cache_file.write_bytes(cache_file.read_bytes()[:-3])  # a change cut short: all is ignored
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)


def test_a_cache_from_another_version_is_ignored(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    cache_file = site / cachefile.CACHE / cachefile.CACHE_FILE
    cache, reason = stored.load(site / cachefile.CACHE)
    assert not reason and cache.parsed
    cache.format = ("sitegen build cache", 0, "0.0.1", "another Python")
    cache_file.write_bytes(cache.dump())
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    cache_file.write_bytes(pickle.dumps({"not": "a cache"}))
    assert f"(0 cached, {SIZE} rendered)" in build(site, capsys)
    assert_as_fresh(site, capsys)


def test_a_cache_that_lies_about_a_source_is_caught_by_its_signature(site: Path,
                                                                      capsys: Capture) -> None:
    """An edit that keeps the size and puts the old mtime back still changes ctime."""
    build(site, capsys)
    path = annotation(site, 2)
    status = path.stat()
    text = path.read_text()
    path.write_text(text.replace(" source here", " source HERE", 1))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert path.stat().st_size == status.st_size
    build(site, capsys)
    assert "source HERE" in (site / "public" / "a00002" / "index.html").read_text()
    assert_as_fresh(site, capsys)


def test_a_file_changed_just_before_a_build_is_read_again_by_the_next(site: Path, capsys: Capture) -> None:
    """Its next change may keep its size and land in the same tick of the file system's clock:
    only reading it again can tell."""
    settle()
    build(site, capsys)
    path = annotation(site, 9)
    path.write_text(path.read_text().replace(" source here", " source HERE", 1))
    build(site, capsys)  # within RACY_NS of the change
    cache, _ = stored.load(site / cachefile.CACHE)
    assert cache.sources["content/a00009.md"][0] == incremental.UNTRUSTED
    assert cache.sources["content/a00001.md"][0] != incremental.UNTRUSTED
    status = path.stat()
    path.write_text(path.read_text().replace(" source HERE", " source Here", 1))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    build(site, capsys)
    assert "source Here" in (site / "public" / "a00009" / "index.html").read_text()
    assert_as_fresh(site, capsys)


def test_a_hand_edited_output_file_is_rewritten(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    build(site, capsys)
    page = site / "public" / "a00004" / "index.html"
    page.write_text(page.read_text().replace("<main", "<!-- edited by hand --><main", 1))
    (site / "public" / "tags" / "index.html").unlink()
    build(site, capsys)
    assert "edited by hand" not in page.read_text()
    assert_as_fresh(site, capsys)
    build(site, capsys)  # the edited file went to the spare tree: it must not come back
    assert_as_fresh(site, capsys)


def test_a_deleted_output_folder_is_built_again(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    shutil.rmtree(site / "public")
    build(site, capsys)
    assert_as_fresh(site, capsys)


def test_a_spare_tree_left_by_a_crashed_build_is_not_trusted(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    build(site, capsys)
    spare = site / cachefile.CACHE / "spare"
    assert spare.is_dir()
    (spare / "a00003" / "index.html").write_text("half written")
    (site / cachefile.CACHE / "updating").touch()  # what a build killed while updating leaves
    build(site, capsys)
    assert_as_fresh(site, capsys)
    build(site, capsys)
    assert_as_fresh(site, capsys)


def test_errors_are_reported_as_without_the_cache(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    path = annotation(site, 6)
    path.write_text(path.read_text().replace("\n## ", "\n## \"a quote that is nowhere\"\n\nx\n\n## ", 1))
    before = tree(site / "public")
    assert main(["build", "--root", str(site), "--jobs", "1"]) == 1
    cached_err = capsys.readouterr().err
    assert main(["build", "--root", str(site), "--jobs", "1", "--no-cache"]) == 1
    assert capsys.readouterr().err == cached_err
    assert "a00006.md:" in cached_err and "nothing was written" in cached_err
    assert tree(site / "public") == before


def test_an_unknown_seed_is_reported_with_its_hint_as_without_the_cache(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    path = annotation(site, 6)
    name = seed(site, 6).name
    path.write_text(path.read_text().replace(f"seed: {name}", f"seed: {name.replace('.txt', 'x.txt')}", 1))
    assert main(["build", "--root", str(site), "--jobs", "1"]) == 1
    cached_err = capsys.readouterr().err
    assert main(["build", "--root", str(site), "--jobs", "1", "--no-cache"]) == 1
    assert capsys.readouterr().err == cached_err
    assert f"unknown seed '{name.replace('.txt', 'x.txt')}'" in cached_err
    assert f"did you mean '{name}'?" in cached_err


def test_a_seed_changed_into_an_error_is_reported_as_without_the_cache(site: Path, capsys: Capture) -> None:
    build(site, capsys)
    seed(site, 4).write_text("date 2020-01-01 ")  # a date and no text
    assert main(["build", "--root", str(site), "--jobs", "1"]) == 1
    cached_err = capsys.readouterr().err
    assert main(["build", "--root", str(site), "--jobs", "1", "--no-cache"]) == 1
    assert capsys.readouterr().err == cached_err
    assert "has no text" in cached_err


def test_warnings_are_reported_on_every_build(site: Path, capsys: Capture) -> None:
    path = annotation(site, 8)
    path.write_text(path.read_text().replace(" source here", " source <b>here</b>", 1))
    first = build(site, capsys)
    warnings = [line for line in first.splitlines() if ": warning: " in line]
    assert warnings
    again = build(site, capsys)
    assert "(24 cached, 0 rendered)" in again
    assert warnings == [line for line in again.splitlines() if ": warning: " in line]
    edit_note(site, 3)  # another article alone: the warnings of all the others still shown
    third = build(site, capsys)
    assert "(23 cached, 1 rendered)" in third
    assert warnings == [line for line in third.splitlines() if ": warning: " in line]


def test_an_edited_hidden_draft_changes_no_page(site: Path, capsys: Capture,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A draft is on no page without --drafts, even one that takes a published article's slug."""
    draft = site / "content" / "draft-copy.md"
    front = "\ndraft: true\nslug: a00006\n---\n"
    draft.write_text(annotation(site, 5).read_text().replace("\n---\n", front, 1))
    build(site, capsys)
    assert_as_fresh(site, capsys)
    page = (site / "public" / "a00006" / "index.html").read_bytes()
    monkeypatch.setattr(incremental, "build_site_reusing", lambda *args, **kwargs: 1 / 0)
    draft.write_text(draft.read_text().replace(" source here", " source quoted here", 1))
    assert "(24 cached, 0 rendered)" in build(site, capsys)
    assert (site / "public" / "a00006" / "index.html").read_bytes() == page
    assert_as_fresh(site, capsys)


def test_no_cache_neither_reads_nor_writes_it(site: Path, capsys: Capture) -> None:
    build(site, capsys, "--no-cache")
    assert not (site / cachefile.CACHE).exists()
    assert "cached" not in build(site, capsys, "--no-cache")


def test_the_cache_is_ignored_by_git_in_a_new_site(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "mysite")]) == 0
    assert cachefile.CACHE + "/" in (tmp_path / "mysite" / ".gitignore").read_text().split()

"""The dev server's quick path: an edited annotation file rebuilds its own pages only, and the
result is always what a whole build of the same files gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.build import Options, build_from_files, rebuild_annotations
from sitegen.memo import Memo
from sitegen.serve import LiveSite, edited_annotations

from .conftest import SAMPLE_SEED_NAME, annotation, site_files, write_site

CONTEXT = "---\ntitle: Hainan\nsummary: An island.\n---\nBody."
FRONT = "tags: [Asia]\nsummary: Two planes.\n"


def make_files(extra: dict[str, str] | None = None) -> dict[str, bytes]:
    seeds = {f"seeds/s{n}.txt": f"date 2020-01-0{n + 1} Story {n} of Hainan and Li Nan." for n in range(3)}
    return site_files({
        **seeds,
        "content/context/hainan.md": CONTEXT,
        "content/a.md": annotation('## "Hainan" #1\nOld note. See [[hainan]].', front=FRONT),
        "content/b.md": annotation('## "Li Nan"\nA fellow.', front="slug: b\ntags: [Navy]\n"),
        **(extra or {}),
    })


def whole(files: dict[str, bytes]):
    site, problems = build_from_files(files, Options())
    assert site is not None, problems
    return site.files, sorted(map(str, problems))


def snapshot_of(files: dict[str, bytes]):
    site, problems = build_from_files(files, Options(), memo=Memo())
    assert site is not None and site.snapshot is not None, problems
    return site.files, site.snapshot


def quick(files: dict[str, bytes], path: str, text: str):
    """Rebuild after content/PATH becomes TEXT: the whole output and the warnings, or None."""
    output, snapshot = snapshot_of(files)
    done = rebuild_annotations(snapshot, {path: text.encode()})
    if done is None:
        return None
    changed, problems, _ = done
    return {**output, **changed}, sorted(map(str, problems)), changed


@pytest.mark.parametrize("text", [
    annotation('## "Hainan" #1\nNew note, *emphasised*. See [[hainan]].', front=FRONT),
    annotation('## "Hainan" #1\nOld note. See [[hainan]].\n\nA second paragraph.', front=FRONT),
    annotation('## "Hainan" #1\nOld note. See [[hainan]].', front=FRONT + "annotator: Ann\n"),
    annotation('## "Hainan" #1\nOld note with <b>raw</b> HTML. See [[hainan]].', front=FRONT),
    annotation('## "Hainan" #1\nOld note. See [[hainan]].', front=FRONT,
               preface="A preface, with [a link](https://example.org/)."),
])
def test_an_edit_inside_one_article_is_rebuilt_quickly_and_exactly(text):
    files = make_files()
    result = quick(files, "content/a.md", text)
    assert result is not None
    output, problems, changed = result
    assert (output, problems) == whole({**files, "content/a.md": text.encode()})
    assert set(changed) <= {"a/index.html", "a/annotations.json", "feed.xml"}


@pytest.mark.parametrize("why, text", [
    ("a new title shows in the lists",
     annotation('## "Hainan" #1\nOld note. See [[hainan]].', front=FRONT).replace("Test article", "Renamed")),
    ("a new tag has its own page", annotation('## "Hainan" #1\nOld note. See [[hainan]].',
                                              front="tags: [Asia, Air]\nsummary: Two planes.\n")),
    ("one more note changes the count in the lists",
     annotation('## "Hainan" #1\nOld note. See [[hainan]].', '## "Li Nan"\nA pilot.', front=FRONT)),
    ("the context entry lists its citations", annotation('## "Hainan" #1\nOld note.', front=FRONT)),
    ("a draft leaves the site",
     annotation('## "Hainan" #1\nOld note. See [[hainan]].', front=FRONT + "draft: true\n")),
    ("an unknown entry is an error",
     annotation('## "Hainan" #1\nSee [[hainan]] and [[nowhere]].', front=FRONT)),
    ("a quote not in the seed is an error",
     annotation('## "Shanghai"\nOld note. See [[hainan]].', front=FRONT)),
    ("another seed is another article", annotation('## "Hainan" #1\nOld note. See [[hainan]].', front=FRONT)
     .replace(SAMPLE_SEED_NAME, "s1.txt")),
])
def test_an_edit_that_reaches_other_pages_is_left_to_a_whole_build(why, text):
    assert quick(make_files(), "content/a.md", text) is None, why


def test_two_articles_edited_at_once_are_both_rebuilt():
    files = make_files()
    output, snapshot = snapshot_of(files)
    edits = {"content/a.md": annotation('## "Hainan" #1\nFirst. See [[hainan]].', front=FRONT).encode(),
             "content/b.md": annotation('## "Li Nan"\nSecond.', front="slug: b\ntags: [Navy]\n").encode()}
    done = rebuild_annotations(snapshot, edits)
    assert done is not None
    changed, problems, _ = done
    assert {"a/index.html", "b/index.html"} <= set(changed)
    assert ({**output, **changed}, sorted(map(str, problems))) == whole({**files, **edits})


def test_only_annotation_files_edited_in_place_count_as_edits():
    before = make_files()
    assert edited_annotations(before, dict(before), ["content/a.md"]) == {}
    after = {**before, "content/a.md": b"changed"}
    assert edited_annotations(before, after, ["content/a.md", "content/b.md"]) == {"content/a.md": b"changed"}
    for path in ("content/context/hainan.md", "seeds/s0.txt", "sitegen.toml"):
        assert edited_annotations(before, {**before, path: b"x"}, [path]) is None
    assert edited_annotations(before, {**before, "content/c.md": b"x"}, ["content/c.md"]) is None
    without_b = {k: v for k, v in before.items() if k != "content/b.md"}
    assert edited_annotations(before, without_b, ["content/b.md"]) is None
    assert edited_annotations(before, dict(before), ["content/context"]) is None  # a folder


NOTES = st.sampled_from(["Old note.", "New note.", "*Stressed* note.", "Note with `code`.",
                         "Two\n\nparagraphs.", "Raw <i>HTML</i>.", "A [link](https://example.org/)."])
QUOTES = st.sampled_from(['"Hainan" #1', '"Li Nan"', '"Antony Blinken"', '"Shanghai"'])  # the last: an error


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["content/a.md", "content/b.md"]), QUOTES, NOTES,
                          st.booleans()), min_size=1, max_size=6))
def test_any_sequence_of_edits_ends_where_a_whole_build_ends(edits):
    files = make_files()
    output, snapshot = snapshot_of(files)
    for path, quote, note, cite in edits:
        front = FRONT if path == "content/a.md" else "slug: b\ntags: [Navy]\n"
        text = annotation(f"## {quote}\n{note}" + (" See [[hainan]]." if cite else ""), front=front)
        files = {**files, path: text.encode()}
        done = rebuild_annotations(snapshot, {path: text.encode()}) if snapshot else None
        if done is None:  # what the server does then: a whole build, and a new snapshot
            site, _ = build_from_files(files, Options(), memo=Memo())
            snapshot = site.snapshot if site else None  # errors: no snapshot, the last good output
            output = site.files if site else output
            continue
        changed, problems, snapshot = done
        output = {**output, **changed}
        assert (output, sorted(map(str, problems))) == whole(files)


def test_the_server_rebuilds_one_saved_article_and_writes_what_a_build_writes(tmp_path: Path):
    root = write_site(tmp_path / "site", make_files())
    logs: list[str] = []
    live = LiveSite(root, Options(base_url="https://example.org/repo/"), tmp_path / "out", logs.append)
    assert live.rebuild()
    text = annotation('## "Hainan" #1\nEdited. See [[hainan]].', front=FRONT)
    (root / "content/a.md").write_text(text)
    assert live.rebuild({str(root / "content/a.md")})
    assert logs[-1].endswith("2 file(s) changed, 4 reused, 1 rendered")  # its page and JSON
    expected, _ = whole({**make_files(), "content/a.md": text.encode()})
    on_disk = {path.relative_to(tmp_path / "out").as_posix(): path.read_bytes()
               for path in (tmp_path / "out").rglob("*") if path.is_file()}
    assert on_disk == expected
    # a new title reaches the lists: the whole site is built again, and still right
    renamed = text.replace("Test article", "Renamed article")
    (root / "content/a.md").write_text(renamed)
    assert live.rebuild({str(root / "content/a.md")})
    assert int(re.search(r"([\d,]+) rendered$", logs[-1]).group(1)) > 1  # the lists too
    expected, _ = whole({**make_files(), "content/a.md": renamed.encode()})
    on_disk = {path.relative_to(tmp_path / "out").as_posix(): path.read_bytes()
               for path in (tmp_path / "out").rglob("*") if path.is_file()}
    assert on_disk == expected

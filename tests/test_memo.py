"""Rebuilds that reuse earlier results give exactly what a fresh build gives."""

from sitegen.build import Options, build_from_files
from sitegen.memo import Memo

from .conftest import annotation, site_files

CONTEXT = "---\ntitle: Hainan\nsummary: An island.\n---\nBody."


def fresh(files):
    site, problems = build_from_files(files, Options())
    assert site is not None, problems
    return site.files


def test_rebuilding_after_each_kind_of_edit_matches_a_fresh_build():
    memo = Memo()
    files = site_files({
        "content/a.md": annotation('## "Hainan" #1\nSee [[hainan]].', front="tags: [Asia]\n"),
        "content/b.md": annotation('## "Li Nan"\nA fellow.', front="slug: b\ntags: [Asia, Navy]\n"),
        "content/context/hainan.md": CONTEXT,
    })
    edits = [
        {"content/a.md": annotation('## "Hainan" #2\nChanged. See [[hainan]].', front="tags: [Asia]\n")},
        {"content/context/hainan.md": CONTEXT.replace("An island.", "A large island.")},
        {"content/b.md": annotation('## "Li Nan"\nA fellow.', front="slug: b\ntags: [Navy]\n")},
        {"templates/footer.html": "<footer>{{ site.config.title }}!</footer>"},
        {"sitegen.toml": 'title = "Renamed"\nbase_url = "https://example.org/"\n'},
    ]
    site, _ = build_from_files(files, Options(), memo=memo)
    memo.end_build()
    for edit in edits:
        files = {**files, **{path: text.encode() for path, text in edit.items()}}
        site, problems = build_from_files(files, Options(), memo=memo)
        hits, _misses = memo.end_build()
        assert site is not None, problems
        assert site.files == fresh(files)
        assert hits > 0


def test_an_unchanged_rebuild_renders_nothing_again():
    memo = Memo()
    files = site_files({"content/a.md": annotation('## "Hainan" #1\nNote.')})
    build_from_files(files, Options(), memo=memo)
    memo.end_build()
    build_from_files(files, Options(), memo=memo)
    _, misses = memo.end_build()
    assert misses == 0


def _edit_once(old, new):
    """The memo's misses by table when content/a.md goes from old to new front matter and notes."""
    memo = Memo()
    extra = {f"seeds/s{n}.txt": f"date 2020-01-0{n + 1} Story {n}." for n in range(5)}
    extra["content/context/hainan.md"] = CONTEXT
    files = site_files({**extra, "content/a.md": annotation(old[1], front=old[0])})
    build_from_files(files, Options(), memo=memo)
    memo.end_build()
    files["content/a.md"] = annotation(new[1], front=new[0]).encode()
    site, problems = build_from_files(files, Options(), memo=memo)
    assert site is not None and site.files == fresh(files), problems
    return memo.missed


def test_editing_a_note_re_renders_its_article_and_the_feed_only():
    missed = _edit_once(("tags: [Asia]\n", '## "Hainan" #1\nOld [[hainan]].'),
                        ("tags: [Asia]\n", '## "Hainan" #1\nNew [[hainan]].'))
    assert missed["annotation"] == 1
    assert missed["article"] == 1  # the other five articles are reused
    # the lists show its title, date, summary, tags and note count, none of which changed;
    # the feed holds the whole article
    assert missed["page"] == 1
    assert missed["seed"] == 0 and missed["theme"] == 0


def test_resummarising_an_article_re_renders_the_lists_that_show_it_only():
    missed = _edit_once(('summary: Old\ntags: [Asia]\n', '## "Hainan" #1\nSee [[hainan]].'),
                        ('summary: New\ntags: [Asia]\n', '## "Hainan" #1\nSee [[hainan]].'))
    assert missed["article"] == 1
    # the index, its tag's page, the entry it cites and the feed; not the tag index (same counts)
    assert missed["page"] == 4

"""Issue 6, case by case: every bad input gets a clear error, nothing is lost, nothing unsafe gets
through. Each test is named after its case (test_case_NN_...), then the property that random
input never crashes a build.

Pinned elsewhere, so not here: 3 (test_errors and test_seeds: an empty seed, no text after the
date), 29 (test_serve: serve never writes public/), 30 (test_deploy). Pinned elsewhere in part,
and completed here: 1 and 2 (test_seeds), 13 (test_site), 26 (test_serve: the resolver table).
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import html5lib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html

from sitegen import output
from sitegen.build import Options, build_from_files
from sitegen.cli import main
from sitegen.model import Problem
from sitegen.output import MARKER, StagedOutput
from sitegen.serve import refresh_sources

from .conftest import REPO, SAMPLE_SEED_NAME, annotation, chromium, site_files, write_site
from .test_errors import snapshot
from .test_serve import Server

CONFIG = b'title = "Test site"\nbase_url = "https://example.org/repo/"\n'


def build(files: dict[str, bytes]) -> tuple[dict[str, bytes] | None, list[str]]:
    """The output files (None on errors) and every problem as printed."""
    site, problems = build_from_files(files, Options())
    return (site.files if site else None), [str(p) for p in problems if "base_url" not in p.message]


def parse_strictly(page: bytes) -> None:
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)


def one_seed(name: str, text: str | bytes, note: str | None = None) -> dict[str, bytes]:
    """A site of one seed, annotated by content/a.md with `note` when one is given."""
    files = {"sitegen.toml": CONFIG, f"seeds/{name}": text.encode() if isinstance(text, str) else text}
    if note is not None:
        files["content/a.md"] = f"---\nseed: {name}\ntitle: A\n---\n{note}\n".encode()
    return files


def cli_build(root: Path, *arguments: str) -> int:
    return main(["build", "--root", str(root), "--jobs", "1", "--quiet", *arguments])


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".public.")]


# --- seeds -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "where", "words"), [
    (b"One.\n\nTwo \x93quoted\x94.\n", "seeds/x.txt:3:5: error: ",
     "invalid UTF-8 byte 0x93 at byte offset 10"),
    ("Hello there.\n".encode("utf-16"), "seeds/x.txt:1:1: error: ", "file is UTF-16"),
    ("Hello there.\n".encode("utf-16-le"), "seeds/x.txt:1:1: error: ", "file is UTF-16"),
    (b"One.\n\nA stray \x00 byte.\n", "seeds/x.txt:3:9: error: ", "U+0000"),  # not called UTF-16
    (b"Pasted from Word:\x0bline two.\n", "seeds/x.txt:1:18: error: ", "U+000B"),  # no page holds it
])
def test_case_01_undecodable_seeds_are_named_with_line_column_and_what_is_wrong(data, where, words):
    files, problems = build(one_seed("x.txt", data))
    assert files is None
    [problem] = problems
    assert problem.startswith(where) and words in problem, problem
    assert "re-save the file as UTF-8" in problem or "delete it" in problem


VARIANTS = {
    "BOM": lambda text: b"\xef\xbb\xbf" + text.encode(),
    "CRLF": lambda text: text.replace("\n", "\r\n").encode(),
    "lone CR": lambda text: text.replace("\n", "\r").encode(),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_case_02_bom_crlf_and_lone_cr_files_give_the_same_site_as_lf(variant):
    seed = "date 2023-01-02 The port reopened.\n\nWhy now?\n\nShips came back,\nslowly.\n"
    note = annotation('## "Ships came back, slowly"\nA note\nover two lines.', preface="An editor's note.")
    note = note.replace(SAMPLE_SEED_NAME, "x.txt")
    plain, problems = build({"sitegen.toml": CONFIG, "seeds/x.txt": seed.encode(),
                             "content/a.md": note.encode()})
    assert plain is not None, problems
    changed = VARIANTS[variant]
    other, problems = build({"sitegen.toml": CONFIG, "seeds/x.txt": changed(seed),
                             "content/a.md": changed(note)})
    assert other == plain, problems


def test_case_04_markup_in_a_seed_is_shown_as_text_and_the_page_parses_strictly():
    text = ("date 2023-01-02 Tags like <script>alert(1)</script> and </article> & co.\n\n"
            "More &amp; <!-- x -->?\n")
    files, problems = build(one_seed("x.txt", text))
    assert files is not None, problems
    parse_strictly(files["x/index.html"])
    article = lxml_html.fromstring(files["x/index.html"]).xpath("//article")[0]
    assert [e.text_content() for e in article] == [
        "Tags like <script>alert(1)</script> and </article> & co.", "More &amp; <!-- x -->?"]


def test_case_05_seed_names_colliding_after_slugging_name_both_files():
    files, problems = build({"sitegen.toml": CONFIG, "seeds/a_b.txt": b"One.", "seeds/a-b.txt": b"Two."})
    assert files is None
    [problem] = problems
    assert "two pages have the slug 'a-b'" in problem
    assert "seeds/a-b.txt" in problem and "seeds/a_b.txt" in problem


def test_case_06_a_one_megabyte_paragraph_with_500_notes_builds():
    """Correctness only: `python bench/long_seed.py` shows the time grows linearly."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from long_seed import long_seed_site
    finally:
        sys.path.remove(str(REPO / "bench"))
    site, problems = build_from_files(long_seed_site(1_000_000, 500), Options())
    assert site is not None, problems[:3]
    assert site.notes == 500 and len(site.files["big/index.html"]) > 1_000_000


# --- annotation files and context entries -------------------------------------------------------


@pytest.mark.parametrize(("seed", "quote", "named"), [
    ("He said wait. Then he left.", "said wait\u2026 Then", "the quote has an ellipsis, U+2026"),
    ("He said wait\u2026 then left.", "said wait... then", "the article has an ellipsis, U+2026"),
    ("A fighter jet flew over.", "A \ufb01ghter jet", "the quote has a ligature, U+FB01"),
    ("A \ufb01ghter jet flew over.", "A fighter jet", "the article has a ligature, U+FB01"),
    ("A fighter jet flew over.", "A fight\u200ber jet", "the quote has a zero-width space, U+200B"),
    ("A fight\u200ber jet flew over.", "A fighter jet", "the article has a zero-width space, U+200B"),
])
def test_case_07_a_quote_differing_by_an_invisible_or_look_alike_character_names_it(seed, quote, named):
    files, problems = build(one_seed("x.txt", seed, f'## "{quote}"\nA note.'))
    assert files is None
    [problem] = problems
    assert problem.startswith("content/a.md:5:4: error: ") and "not found" in problem
    assert named in problem.split("hint: ")[1]


def test_case_08_raw_html_is_shown_as_text_with_a_warning_naming_its_line():
    text = annotation('## "Hainan" #1\nA <b>bold</b> claim.', '## "Li Nan"\nFine.\n\n<div>\nblock\n</div>',
                      preface="An <i>editor's</i> note.")
    context = "---\ntitle: Hainan\nsummary: An island.\n---\nBody with <script>x()</script>."
    files, problems = build(site_files({"content/a.md": text, "content/context/h.md": context}))
    assert files is not None, problems
    warnings = [p.split("\n")[0] for p in problems]
    shown = ": raw HTML {} is shown as text, not as markup"
    assert set(warnings) == {"content/a.md:5:4: warning" + shown.format("'<i>'"),
                             "content/a.md:8:3: warning" + shown.format("'<b>'"),
                             "content/a.md:13:1: warning" + shown.format("'<div>'"),
                             "content/context/h.md:5:11: warning" + shown.format("'<script>'")}
    page = files["a/index.html"].decode()
    assert "A &lt;b&gt;bold&lt;/b&gt; claim." in page and "<b>bold" not in page
    assert "&lt;script&gt;x()" in files["context/h/index.html"].decode()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)", "vbscript:x",
                                 "data:text/html,x", "file:///etc/passwd", "ftp://example.org/a",
                                 "//example.org/a", "https:example.org", "news/story.html",
                                 "https://[example.org/"])
def test_case_09_a_source_url_that_is_not_http_is_an_error(url):
    text = annotation('## "Hainan" #1\nNote.', front=f"source_url: '{url}'\n")
    files, problems = build(site_files({"content/a.md": text}))
    assert files is None
    [problem] = problems
    assert problem.startswith("content/a.md:4:1: error: source_url must be an http(s) URL"), problem


NASTY = 'Hainan </script><!-- "x" & \'y\' -->'
NASTY_TAG = 'Hainan <script> <!-- "x" & \'y\''  # a tag may not hold '/'


def test_case_10_script_ends_comments_and_quotes_are_escaped_in_every_page_feed_and_json_ld():
    quoted = json.dumps(NASTY)
    front = f"summary: {quoted}\ntags: [{json.dumps(NASTY_TAG)}]\nannotator: {quoted}\n"
    text = annotation('## "Hainan" #1\nSee [[h]].', front=front)
    text = text.replace("title: Test article", f"title: {quoted}")
    context = f"---\ntitle: {quoted}\nsummary: {quoted}\n---\nBody."
    files, problems = build(site_files({"content/a.md": text, "content/context/h.md": context}))
    assert files is not None, problems
    for path, page in files.items():
        if path.endswith(".html"):
            parse_strictly(page)
            assert page.count(b"</script>") == page.count(b"<script"), path
            assert b"<!--" not in page, path
    script = lxml_html.fromstring(files["a/index.html"]).find(".//script[@type='application/ld+json']")
    data = json.loads(script.text)
    assert (data["headline"], data["description"], data["author"]["name"]) == (NASTY, NASTY, NASTY)
    assert data["keywords"] == [NASTY_TAG] and data["mentions"][0]["name"] == NASTY
    atom = "{http://www.w3.org/2005/Atom}"
    feed = etree.fromstring(files["feed.xml"])
    assert next(feed.iter(f"{atom}entry")).find(f"{atom}title").text == NASTY
    etree.fromstring(files["sitemap.xml"])
    tag_page = next(path for path in files if path.startswith("tags/hainan-script"))
    assert lxml_html.fromstring(files[tag_page]).xpath("//h1")[0].text_content().strip().endswith(NASTY_TAG)


@pytest.mark.parametrize(("text", "where", "words", "hint"), [
    (annotation('## "Hainan" #1\nX.', front="date: 2023-02-30\n"), "content/a.md:4:1",
     "invalid value for field 'date'", "quote the value"),
    (f'+++\nseed = "{SAMPLE_SEED_NAME}"\ntitle = 12\n+++\n## "Hainan" #1\nX.\n', "content/a.md:3:1",
     "field 'title' must be a string, not a number (12)", "quote the value"),
    (f'+++\nseed = "{SAMPLE_SEED_NAME}"\ntitle = "T"\ndate = 2023-02-30\n+++\n## "Hainan" #1\nX.\n',
     "content/a.md:4:8", "Invalid date or datetime in field 'date'", "quote the value"),
    (f'+++\nseed = "{SAMPLE_SEED_NAME}"\ntitle = "T"\ntitle = "U"\n+++\n## "Hainan" #1\nX.\n',
     "content/a.md:4:1", "duplicate field 'title' (first set on line 3)", "keep one of them"),
])
def test_case_11_yaml_and_toml_traps_name_the_field_and_its_line(text, where, words, hint):
    files, problems = build(site_files({"content/a.md": text}))
    assert files is None
    [problem] = problems
    assert problem.startswith(f"{where}: error: ") and words in problem, problem
    assert hint in problem.split("hint: ")[1]


@pytest.mark.parametrize(("front", "body", "words"), [
    *[(f"slug: {value}\n", "", "illegal slug") for value in
      ['"../x"', '"a/b"', '"a\\\\b"', '"a\\0b"', '"ab\\n"', "|\n  ab\n", "..", "a/b"]],
    *[(f"tags: [{value}]\n", "", "illegal tag") for value in ['"../x"', '"a/b"', '"a\\\\b"', '"ab\\n"']],
    ('tags: ["a\\0b"]\n', "", "field 'tags' holds U+0000"),
    *[("", f" See [[{value}]].", "cite an entry by the name of its file")
      for value in ["..", "../x", "a/b", "a\\b"]],
])
def test_case_12_slugs_tags_and_refs_that_could_leave_the_folder_are_rejected(front, body, words):
    context = "---\ntitle: X\nsummary: S\n---\nBody."
    text = annotation(f'## "Hainan" #1\nNote.{body}', front=front)
    files, problems = build(site_files({"content/a.md": text, "content/context/x.md": context}))
    assert files is None
    assert any(words in problem for problem in problems), problems


def test_case_13_the_name_of_a_merged_tag_does_not_depend_on_the_files_order():
    def tag_title(first: str, second: str) -> str:
        files, problems = build(site_files({
            "content/a.md": annotation(front=f"tags: ['{first}']\nslug: a\n"),
            "content/b.md": annotation(front=f"tags: ['{second}']\nslug: b\n")}))
        assert files is not None, problems
        assert [path for path in files if path.startswith("tags/us")] == ["tags/us-china/index.html"]
        return lxml_html.fromstring(files["tags/us-china/index.html"]).xpath("//h1")[0].text_content()

    assert tag_title("US-China", "us-china ") == tag_title("us-china ", "US-China")


@pytest.mark.parametrize(("text", "where", "words"), [
    (f"---\nseed: {SAMPLE_SEED_NAME}\ntitle: T\n+++\n## \"Hainan\" #1\nX.\n", "content/a.md:4:1",
     "front matter opened with '---' on line 1 is closed with '+++'"),
    (f"+++\nseed = \"{SAMPLE_SEED_NAME}\"\ntitle = \"T\"\n\n---\n", "content/a.md:5:1",
     "front matter opened with '+++' on line 1 is closed with '---'"),
])
def test_case_14_front_matter_closed_with_the_other_fence_is_reported_at_its_real_line(text, where, words):
    files, problems = build(site_files({"content/a.md": text}))
    assert files is None
    [problem] = problems
    assert problem.startswith(f"{where}: error: {words}"), problem


def test_case_15_code_of_an_unknown_or_no_language_is_plain_and_no_lexer_is_ever_guessed(monkeypatch):
    import pygments.lexers

    def never(*_: object, **__: object) -> None:
        raise AssertionError("a lexer was guessed")

    for name in ("guess_lexer", "guess_lexer_for_filename", "get_lexer_for_filename"):
        monkeypatch.setattr(pygments.lexers, name, never)
    body = "```nosuchlang\nx = 1\n```\n\n```\ny = 2\n```\n\n```python\nz = 3\n```"
    files, problems = build(site_files({"content/a.md": annotation(f'## "Hainan" #1\n{body}')}))
    assert files is not None, problems
    page = files["a/index.html"].decode()
    assert '<pre><code class="language-nosuchlang">x = 1\n</code></pre>' in page
    assert "<pre><code>y = 2\n</code></pre>" in page
    assert '<code class="language-python"><span class="n">z</span>' in page


def test_case_16_two_notes_with_the_same_id_are_both_kept_with_distinct_ids():
    text = annotation('## "Hainan" #1\nFirst.', '## "Hainan" #1\nSecond.', '## "Li Nan"\nThird.')
    files, problems = build(site_files({"content/a.md": text}))
    assert files is not None, problems
    doc = lxml_html.fromstring(files["a/index.html"])
    notes = doc.xpath("//section[@role='doc-endnotes']//li")
    assert [li.get("id") for li in notes][:2] == ["note-hainan", "note-hainan--v2"]
    assert "First." in notes[0].text_content() and "Second." in notes[1].text_content()
    ids = doc.xpath("//@id")
    assert len(ids) == len(set(ids))


# --- config and templates ----------------------------------------------------------------------


def test_case_17_unknown_config_key_is_a_warning_with_a_guess_and_a_wrong_type_an_error():
    config = b'titel = "Mine"\ndescription = 3\nbase_url = "https://example.org/"\n'
    files, problems = build({**site_files(), "sitegen.toml": config})
    assert files is None
    assert problems == [
        "sitegen.toml:1:1: warning: unknown config key 'titel'\n  hint: did you mean 'title'?",
        "sitegen.toml:2:1: error: config key 'description' must be a string\n"
        '  hint: write description = "..."',
    ]


@pytest.mark.parametrize("out", ["content", "content/", "templates", "HOME"])
def test_case_18_out_naming_sources_or_the_home_folder_is_a_usage_error_that_deletes_nothing(
        tmp_path, monkeypatch, capsys, out):
    root = write_site(tmp_path / "site", site_files({"content/a.md": annotation('## "Hainan" #1\nX.'),
                                                     "templates/footer.html": "<footer></footer>"}))
    home = tmp_path / "home"
    (home / "notes").mkdir(parents=True)
    (home / "notes" / "todo.txt").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(root)
    before = snapshot(tmp_path)
    assert main(["build", "--out", str(home) if out == "HOME" else out]) == 2
    assert capsys.readouterr().err.startswith("sitegen: error: --out")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(("template", "where", "words"), [
    ("<footer>\n{% endif %}\n</footer>\n", "templates/footer.html:2: error: ", "template syntax error"),
    ("<footer>\n{{ site.config.titel }}\n</footer>\n", "templates/footer.html:2: error: ",
     "has no attribute 'titel'"),
    ("<footer>\n\n{{ nothing }}</footer>\n", "templates/footer.html:3: error: ", "'nothing' is undefined"),
])
def test_case_19_template_errors_name_the_file_and_line_and_undefined_is_never_empty(template, where, words):
    files, problems = build(site_files({"templates/footer.html": template}))
    assert files is None
    [problem] = problems
    assert problem.startswith(where) and words in problem, problem


def test_case_20_autoescape_holds_for_any_template_name_and_check_warns_about_safe(tmp_path, capsys):
    config = b'title = "<b>Bold</b> & co"\nbase_url = "https://example.org/"\n'
    files, problems = build({**site_files(), "sitegen.toml": config,
                             "templates/footer.html": b'<footer>{% include "part.txt" %}</footer>',
                             "templates/part.txt": b"{{ site.config.title }}"})
    assert files is not None, problems
    assert b"<footer>&lt;b&gt;Bold&lt;/b&gt; &amp; co</footer>" in files["index.html"]

    root = write_site(tmp_path / "site", site_files({
        "templates/footer.html": "<footer>\n{{ site.config.title|safe }}</footer>",
        "templates/article.html": (REPO / "sitegen/theme/templates/article.html").read_text(),
        "templates/macros.html": (REPO / "sitegen/theme/templates/macros.html").read_text()}))
    assert main(["check", "--root", str(root), "--jobs", "1"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if ": warning: " in line]
    assert warnings == ["templates/footer.html:2: warning: |safe turns escaping off for site.config.title: "
                        "text holding '<' would become markup"]  # the copied theme files: no warning


# --- the output folder ---------------------------------------------------------------------------

CRASH = {  # patches run in a child process that then builds: it dies at the marked moment
    "while writing pages": (
        "import sitegen.output as output\n"
        "real_write, count = output.StagedOutput.write, [0]\n"
        "def write(self, path, data):\n"
        "    count[0] += 1\n"
        "    if count[0] == 3: os.kill(os.getpid(), signal.SIGKILL)\n"
        "    real_write(self, path, data)\n"
        "output.StagedOutput.write = write\n"),
    "between the two renames": (
        "from sitegen import output\n"
        "output._exchange = lambda first, second: False  # a system without renameat2\n"
        "real_rename = os.rename\n"
        "def rename(source, target):\n"
        "    if '.public.new-' in str(source) or str(source).endswith('.sitegen-cache/spare'):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)  # a new tree, or the cache's spare tree\n"
        "    real_rename(source, target)\n"
        "os.rename = rename\n"),
}


def build_killed(root: Path, patch: str) -> None:
    """A build of root, in a process that `patch` (run first, with os, signal and sys imported)
    makes kill itself midway."""
    script = f"import os, signal, sys\n{patch}from sitegen.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    killed = subprocess.run([sys.executable, "-c", script, "build", "--root", str(root), "--jobs", "1"],
                            env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr


@pytest.mark.parametrize("moment", CRASH)
def test_case_21_a_build_killed_midway_never_leaves_a_mix_and_the_next_build_recovers(tmp_path, moment):
    root = write_site(tmp_path / "site", site_files({"content/a.md": annotation('## "Hainan" #1\nOld.')}))
    assert cli_build(root) == 0
    old = snapshot(root / "public")
    (root / "content" / "a.md").write_text(annotation('## "Hainan" #1\nNew.'))
    build_killed(root, CRASH[moment])
    # What the dead build left behind: a new tree beside public/, or the cache's spare tree
    # half brought up to date (and marked so).
    assert leftovers(root) or (root / ".sitegen-cache" / "updating").exists()
    if (root / "public").exists():
        assert snapshot(root / "public") == old  # never a mix
    (root / "content" / "b.md").write_text(annotation('## "no such words"\nX.', front="slug: b\n"))
    assert cli_build(root) == 1  # a failed build: the old site is back in place, whole
    assert snapshot(root / "public") == old and not leftovers(root)
    (root / "content" / "b.md").unlink()
    assert cli_build(root) == 0
    assert b"New." in (root / "public" / "a" / "index.html").read_bytes() and not leftovers(root)


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site", site_files({"content/a.md": annotation('## "Hainan" #1\nX.')}))


def test_case_22_a_public_folder_holding_files_sitegen_did_not_write_is_kept_until_forced(site_root, capsys):
    public = site_root / "public"
    write_site(public, {"index.html": b"my own page", ".git/HEAD": b"ref: refs/heads/main\n",
                        "CNAME": b"news.example.org\n"})
    before = snapshot(public)
    assert cli_build(site_root) == 1
    err = capsys.readouterr().err
    assert "it holds files sitegen did not write (.git, CNAME, index.html)" in err
    assert "hint: move them elsewhere (files in static/ are copied into every build)" in err
    assert "--force" in err
    assert snapshot(public) == before and not leftovers(site_root)

    assert cli_build(site_root, "--force") == 0
    assert not (public / ".git").exists() and (public / "a" / "index.html").is_file()
    assert (public / MARKER).is_file()  # sitegen's from now on: the next build replaces it
    (public / "stray.txt").write_text("x")
    assert cli_build(site_root) == 0
    assert not (public / "stray.txt").exists()


def test_case_22_a_folder_written_by_sitegen_before_the_marker_is_still_replaced(site_root):
    old_build = {"index.html": b"old", "404.html": b"", "feed.xml": b"", "sitemap.xml": b"",
                 ".nojekyll": b"", "assets/style.css": b"", "deleted-article/index.html": b"old",
                 "deleted-article/annotations.json": b"{}", "tags/x/index.html": b"",
                 "page/2/index.html": b""}
    write_site(site_root / "public", old_build)
    assert cli_build(site_root) == 0
    assert not (site_root / "public" / "deleted-article").exists()
    assert (site_root / "public" / MARKER).is_file()


@pytest.mark.parametrize("user_file", [".git/config", "CNAME", "downloads/report.pdf"])
def test_case_22_an_old_build_with_a_users_file_added_is_kept(site_root, capsys, user_file):
    write_site(site_root / "public", {"index.html": b"old", ".nojekyll": b"", user_file: b"mine"})
    before = snapshot(site_root / "public")
    assert cli_build(site_root) == 1
    assert f"sitegen did not write ({user_file.split('/')[0]})" in capsys.readouterr().err
    assert snapshot(site_root / "public") == before


def test_case_22_write_site_which_deploy_uses_refuses_the_same_folders(tmp_path):
    from sitegen.output import OutputError
    from sitegen.output import write_site as write_output

    write_site(tmp_path / "public", {"notes.txt": b"mine"})
    with pytest.raises(OutputError):
        write_output({"index.html": b"x"}, tmp_path / "public")
    assert snapshot(tmp_path / "public") == {"notes.txt": b"mine"}


@pytest.mark.parametrize("umask", [0o000, 0o002, 0o022, 0o077])
def test_case_23_public_is_world_readable_and_writable_only_by_its_owner_whatever_the_umask(site_root, umask):
    previous = os.umask(umask)
    try:
        assert cli_build(site_root) == 0
        assert cli_build(site_root) == 0  # the spare tree the first one left becomes public/
    finally:
        os.umask(previous)
    public = site_root / "public"
    modes = {stat.S_IMODE(path.stat().st_mode) for path in [public, *public.rglob("*")] if path.is_dir()}
    assert modes == {0o755}
    modes = {stat.S_IMODE(path.stat().st_mode) for path in public.rglob("*") if path.is_file()}
    assert modes == {0o644}


def _fail_writing(monkeypatch):
    real = StagedOutput.write

    def write(self, path, data):
        if path == "a/index.html":
            raise OSError(errno.ENOSPC, "No space left on device", path)
        real(self, path, data)

    monkeypatch.setattr(StagedOutput, "write", write)


def _fail_making_the_new_folder(monkeypatch):
    """A disk turned read-only: no new folder beside public/, no new file anywhere (the cache's
    spare tree included)."""
    real_mkdir, real_open = os.mkdir, os.open

    def mkdir(path, *args, **kwargs):
        if ".public.new-" in str(path):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        real_mkdir(path, *args, **kwargs)

    def open_file(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", open_file)


def _fail_moving_public_aside(monkeypatch):
    monkeypatch.setattr(output, "_exchange", lambda first, second: False)  # the two-rename path
    real = os.rename

    def rename(source, target):
        if Path(source).name == "public":
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(source))
        real(source, target)

    monkeypatch.setattr(os, "rename", rename)


@pytest.mark.parametrize(("fail", "hint"), [
    (_fail_writing, "free some disk space"),
    (_fail_making_the_new_folder, "the disk is read-only"),
    (_fail_moving_public_aside, "mount point or on another disk"),
])
def test_case_24_a_full_disk_read_only_disk_or_other_device_is_a_clear_error_and_the_old_site_stays(
        site_root, monkeypatch, capsys, fail, hint):
    assert cli_build(site_root) == 0
    before = snapshot(site_root / "public")
    (site_root / "content" / "a.md").write_text(annotation('## "Hainan" #1\nChanged.'))
    capsys.readouterr()
    fail(monkeypatch)
    assert cli_build(site_root) == 1
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert err.startswith("sitegen: error: cannot write the site to "), err
    assert "the previous site is untouched\n  hint: " in err and hint in err and "Traceback" not in err
    assert snapshot(site_root / "public") == before and not leftovers(site_root)


def _outside_file(tmp_path: Path) -> Path:
    (tmp_path / "secret.txt").write_text("A secret story.")
    return tmp_path / "secret.txt"


def _outside_folder(tmp_path: Path) -> Path:
    return write_site(tmp_path / "shared", {"x.md": b"---\ntitle: X\nsummary: S\n---\nBody."})


@pytest.mark.parametrize(("link", "outside"), [
    ("seeds/leak.txt", _outside_file),
    ("sitegen.toml", _outside_file),
    ("content/context", _outside_folder),
    ("content", _outside_folder),
])
def test_case_25_links_out_of_the_site_are_refused_with_an_error(tmp_path, capsys, link, outside):
    root = write_site(tmp_path / "site", site_files())
    target = outside(tmp_path)
    (root / link).unlink(missing_ok=True)
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    (root / link).symlink_to(target)
    assert main(["check", "--root", str(root), "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert f"{link}: error: refusing to read a link to {target.resolve()}, outside the site's folder" in err
    assert cli_build(root) == 1 and not (root / "public").exists()


def test_case_25_links_inside_the_site_are_read_and_serve_refuses_links_out_too(tmp_path, capsys):
    root = write_site(tmp_path / "site", site_files({"drafts/story.txt": "A story inside the site."}))
    (root / "seeds" / "story.txt").symlink_to(root / "drafts" / "story.txt")
    assert cli_build(root) == 0 and (root / "public" / "story" / "index.html").is_file()
    (tmp_path / "secret.txt").write_text("secret")
    (root / "seeds" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    problems: list[Problem] = []
    sources = refresh_sources(root, {}, {str(root / "seeds" / "leak.txt")}, problems)
    assert sources == {} and "refusing to read a link" in problems[0].message
    (root / "seeds" / "leak.txt").unlink()
    (root / "seeds" / "gone.txt").symlink_to(root / "drafts" / "gone.txt")  # inside, but dangling
    assert main(["check", "--root", str(root)]) == 1
    assert "seeds/gone.txt: error: cannot read the file: No such file or directory" in capsys.readouterr().err


# --- the dev server --------------------------------------------------------------------------------


@pytest.fixture
def server(site_root):
    running = Server(site_root)
    yield running
    running.stop()


def raw_request(url: str, target: bytes, *headers: bytes) -> tuple[int, bytes]:
    """A request sent byte for byte (no client tidies its path), and the status and headers back."""
    port = urllib.parse.urlsplit(url).port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port
                           + b"".join(header + b"\r\n" for header in headers) + b"Connection: close\r\n\r\n")
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
    head = response.split(b"\r\n\r\n", 1)[0]
    return int(head.split(b" ", 2)[1]), head


def test_case_26_traversal_in_any_encoding_is_a_404_and_the_server_stays_up(server):
    for target in [b"/repo/../../etc/passwd", b"/repo/%2e%2e/%2e%2e/etc/passwd",
                   b"/repo/%252e%252e/etc/passwd", b"/repo/..%2f..%2fetc%2fpasswd",
                   b"/repo/..%5c..%5cetc%5cpasswd", b"//etc/passwd",
                   b"/repo/a/index.html%00.css", b"/repo/a\x00/index.html", b"/repo/%ff%fe/x",
                   b"/repo-leak/index.html", b"http://[/x", b"/repo/" + b"../" * 200 + b"etc/passwd"]:
        status, _ = raw_request(server.url, target)
        assert status in (400, 404), target
        assert raw_request(server.url, b"/repo/a/")[0] == 200  # still up, after each one
    assert server.process.poll() is None
    assert "Traceback" not in "".join(server.lines)


def test_case_27_a_foreign_host_or_origin_is_refused_and_no_cors_is_ever_sent(server):
    port = urllib.parse.urlsplit(server.url).port
    assert raw_request(server.url, b"/repo/a/", b"Origin: http://evil.example")[0] == 403
    assert raw_request(server.url, b"/repo/a/", b"Origin: null")[0] == 403
    lookalike = b"Origin: http://localhost.evil.example:%d" % port
    assert raw_request(server.url, b"/__sitegen/state", lookalike)[0] == 403
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/repo/a/", headers={"Host": "evil.example"})
        assert connection.getresponse().status == 403
    finally:
        connection.close()
    for origin in (b"http://127.0.0.1:%d" % port, b"http://localhost:%d" % port):
        status, head = raw_request(server.url, b"/repo/a/", b"Origin: " + origin)
        assert status == 200 and b"access-control" not in head.lower()
    assert b"access-control" not in raw_request(server.url, b"/__sitegen/state")[1].lower()


def test_case_28_thirty_tabs_keep_live_reload_working(site_root):
    with chromium() as browser:
        server = Server(site_root)
        try:
            context = browser.new_context()
            tabs = [context.new_page() for _ in range(30)]
            for tab in tabs:  # one connection per tab would hang the seventh here
                tab.goto(server.url + "a/", timeout=10_000)
            time.sleep(0.5)  # every tab's script has run and joined the shared connection
            edited = annotation('## "Hainan" #1\nSeen in thirty tabs.')
            (site_root / "content" / "a.md").write_text(edited)
            for tab in tabs:
                tab.wait_for_selector("text=Seen in thirty tabs.", timeout=10_000)
        finally:
            server.stop()


# --- proof: random inputs never crash the build, and every page parses strictly ------------------

MARKUP = st.sampled_from([*"<>&\"'[]#*_`\\|!()~-:= \n", "\n\n", "</script>", "<!--", "-->", "&amp;", "&#1;",
                          "[[", "]]", "## ", "---", "+++", "```", "<b>", "\u2026", "\ufb01", "\u200b",
                          "\u201c", "\u201d", "\u0301"])
PRINTABLE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)
TEXT = st.lists(st.one_of(PRINTABLE, MARKUP), max_size=30).map("".join)
TAG = st.from_regex(r"[A-Za-z][A-Za-z0-9 -]{0,10}", fullmatch=True)


@st.composite
def random_sites(draw: st.DrawFn) -> dict[str, bytes]:
    """A seed, an annotation of it and maybe a context entry, mostly well formed: the quotes
    are mostly words of the seed, so that most examples get as far as rendering."""
    body = draw(PRINTABLE.filter(str.strip)) + draw(TEXT)
    if draw(st.integers(0, 5)) == 5:  # now and then a character no page can hold
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.characters(categories=["Cc", "Cn"])) + body[at:]
    lines = [line for line in body.split("\n") if line.strip()]

    def quote() -> str:
        if lines and draw(st.integers(0, 3)) != 3:
            line = draw(st.sampled_from(lines))
            start = draw(st.integers(0, len(line) - 1))
            text = line[start : draw(st.integers(start + 1, len(line)))]
            text = text if text.strip() else line
        else:
            text = draw(TEXT)
        if text and draw(st.integers(0, 3)) == 3:
            start = draw(st.integers(0, len(text) - 1))
            end = draw(st.integers(start + 1, len(text)))
            text = f"{text[:start]}[{text[start:end]}]{text[end:]}"
        return f'## "{text}"' + draw(st.sampled_from([" #1", "", " #2"]))

    def value() -> str:
        text = draw(PRINTABLE.filter(str.strip)) + draw(TEXT)
        if draw(st.integers(0, 9)) == 9:
            return text.replace("\n", " ")  # unquoted: often not YAML
        return json.dumps(text, ensure_ascii=False)

    tags = f"[{draw(st.one_of(TAG, st.builds(value)))}, {draw(st.one_of(TAG, st.builds(value)))}]"
    front = f"---\nseed: s.txt\ntitle: {value()}\nsummary: {value()}\ntags: {tags}\n---\n"
    notes = "\n\n".join(f"{quote()}\n{draw(TEXT)}" for _ in range(draw(st.integers(1, 4))))
    date = draw(st.sampled_from(["", "date 2023-01-02 "]))
    files = {"sitegen.toml": CONFIG, "seeds/s.txt": (date + body).encode(),
             "content/a.md": f"{front}{draw(TEXT)}\n\n{notes}".encode()}
    if draw(st.booleans()):
        entry = f"---\ntitle: {value()}\nsummary: {value()}\n---\n{draw(TEXT)}"
        files["content/context/c.md"] = entry.encode()
    return files


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(random_sites())
def test_proof_random_seeds_and_annotations_give_a_site_or_problems_and_pages_parse_strictly(files):
    site, problems = build_from_files(files, Options())
    assert all(isinstance(problem, Problem) for problem in problems)
    if site is None:
        assert any(problem.severity == "error" for problem in problems)
        return
    for path, page in site.files.items():
        if path.endswith(".html"):
            parse_strictly(page)


def test_case_21_a_first_build_killed_while_it_links_its_spare_leaves_the_spare_untrusted(tmp_path):
    root = write_site(tmp_path / "site", site_files({"content/a.md": annotation('## "Hainan" #1\nOld.')}))
    build_killed(root, "real = os.link\nmade = []\n"
                       "def link(source, target, **options):\n"
                       "    made.append(target)\n"
                       "    if len(made) == 3:\n"
                       "        os.kill(os.getpid(), signal.SIGKILL)  # the spare tree half made\n"
                       "    real(source, target, **options)\n"
                       "os.link = link\n")
    assert (root / ".sitegen-cache" / "spare").is_dir()
    assert (root / ".sitegen-cache" / "updating").exists()  # the half-made spare is not trusted
    assert cli_build(root) == 0 and not (root / ".sitegen-cache" / "updating").exists()
    spare, public = root / ".sitegen-cache" / "spare", root / "public"
    assert snapshot(spare) == snapshot(public)  # made anew, whole


def test_case_21_a_build_killed_right_after_the_atomic_exchange_leaves_the_whole_new_site(tmp_path):
    root = write_site(tmp_path / "site", site_files({"content/a.md": annotation('## "Hainan" #1\nOld.')}))
    assert cli_build(root) == 0
    (root / "content" / "a.md").write_text(annotation('## "Hainan" #1\nNew.'))
    build_killed(root, "from sitegen import output\nreal = output._exchange\n"
                       "def exchange(first, second):\n"
                       "    assert real(first, second)\n"
                       "    os.kill(os.getpid(), signal.SIGKILL)\n"
                       "output._exchange = exchange\n")
    assert b"New." in (root / "public" / "a" / "index.html").read_bytes()  # whole, and new
    # The old site, swapped out: beside public/, or in the cache as a spare not yet recorded
    assert leftovers(root) or (root / ".sitegen-cache" / "updating").exists()
    assert cli_build(root) == 0 and not leftovers(root)
    assert not (root / ".sitegen-cache" / "updating").exists()

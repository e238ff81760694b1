"""Content errors, seen from the outside: `python -m sitegen build` on a site in a temporary folder.

Each test builds a good site once, breaks one file, builds again and checks that the command
exits 1, points at the file, line and column the error is on, explains it (with a hint where the
product gives one), never shows a traceback and leaves the previous public/ exactly as it was.

Line and column numbers below are counted by hand from the fixture texts in this file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# --- a small site ----------------------------------------------------------------------------

SEED_NAME = "101_harbour.txt"
SEED_PATH = f"seeds/{SEED_NAME}"
# Line numbers of the seed file, for the expectations below:
#  1 date token + first paragraph     3 "the port" (1st), "keep working on"
#  5-6 "an incident like one in 2001"  8 "the port" (2nd)   10 subheading   12 "the port" (3rd)
SEED = (
    "date 2023-06-21 The harbour reopened on Monday after the storm.\n"  # 1
    "\n"  # 2
    "Officials said the port would keep working on repairs.\n"  # 3
    "\n"  # 4
    "Washington wants to avoid an incident like one in 2001, when a ship\n"  # 5
    "ran aground off the island.\n"  # 6
    "\n"  # 7
    "The mayor said the port is safe.\n"  # 8
    "\n"  # 9
    "Why did the harbour close?\n"  # 10
    "\n"  # 11
    "The storm closed the port for a week.\n"  # 12
)

CONTEXT = (
    "---\n"
    'title: "Hainan Island incident (2001)"\n'
    'summary: "A collision off Hainan."\n'
    "---\n"
    "Background.\n"
)

ANNOTATION_PATH = "content/harbour.md"


def annotation(*notes: str, front: str = "", seed: str = SEED_NAME,
               title: str = '"The harbour reopens"') -> str:
    """Front matter on lines 1-4 (plus `front` from line 4 on), then the given note sections."""
    head = f"---\nseed: {seed}\ntitle: {title}\n{front}---\n"
    return head + "".join(notes)


GOOD_ANNOTATION = annotation('## "keep working on"\nA note. See [[hainan-2001]].\n')

CONFIG = 'title = "Test site"\nbase_url = "https://example.org/site/"\n'


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            target.write_bytes(data.encode("utf-8"))
        else:
            target.write_bytes(data)


def make_site(root: Path, extra: dict[str, str | bytes] | None = None,
              *, annotated: bool = True) -> Path:
    """A site with one seed, one context entry and (by default) one annotation of the seed."""
    files: dict[str, str | bytes] = {
        "sitegen.toml": CONFIG,
        SEED_PATH: SEED,
        "content/context/hainan-2001.md": CONTEXT,
    }
    if annotated:
        files[ANNOTATION_PATH] = GOOD_ANNOTATION
    files.update(extra or {})
    root.mkdir(parents=True, exist_ok=True)
    write_files(root, files)
    return root


REPO = Path(__file__).resolve().parent.parent


def sitegen(*arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m sitegen ARGUMENTS` in cwd, with this checkout's package importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "sitegen", *map(str, arguments)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below folder, by relative path, with its bytes."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A good site, already built once into public/."""
    root = make_site(tmp_path / "site")
    result = sitegen("build", cwd=root)
    assert result.returncode == 0, result.stderr
    assert (root / "public" / "index.html").is_file()
    return root


def build_broken(site: Path, files: dict[str, str | bytes],
                 *arguments: str) -> subprocess.CompletedProcess[str]:
    """Write files over the built site, build again: it must fail cleanly and keep public/."""
    before = snapshot(site / "public")
    write_files(site, files)
    result = sitegen("build", *arguments, cwd=site)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert snapshot(site / "public") == before
    assert not [p.name for p in site.iterdir() if p.name.startswith(".public.")]
    return result


def reported(result: subprocess.CompletedProcess[str], prefix: str) -> tuple[str, str]:
    """The error line starting with prefix and the line after it (its hint, if any)."""
    lines = result.stderr.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(prefix):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            return line, following
    raise AssertionError(f"no line starts with {prefix!r} in stderr:\n{result.stderr}")


def assert_error(result: subprocess.CompletedProcess[str], prefix: str, *words: str,
                 hint: str | None = None) -> None:
    line, following = reported(result, prefix)
    for word in words:
        assert word in line, (word, line)
    if hint is not None:
        assert following.startswith("  hint: "), (line, following)
        assert hint in following, (hint, following)


# --- seeds and front matter -----------------------------------------------------------------

def test_unknown_seed_points_at_the_seed_field_and_hints_the_nearest_file_name(site):
    result = build_broken(site, {ANNOTATION_PATH: annotation(seed="101_harbor.txt")})
    assert_error(result, f"{ANNOTATION_PATH}:2:1: error: ", "unknown seed", "101_harbor.txt",
                 hint=f"did you mean '{SEED_NAME}'?")


def test_missing_seed_field_is_named(site):
    text = '---\ntitle: "The harbour reopens"\n---\n## "keep working on"\nA note.\n'
    result = build_broken(site, {ANNOTATION_PATH: text})
    assert_error(result, f"{ANNOTATION_PATH}:1:1: error: ", "missing required field 'seed'",
                 hint="seed:")


def test_missing_title_field_is_named(site):
    text = f'---\nseed: {SEED_NAME}\n---\n## "keep working on"\nA note.\n'
    result = build_broken(site, {ANNOTATION_PATH: text})
    assert_error(result, f"{ANNOTATION_PATH}:1:1: error: ", "missing required field 'title'",
                 hint="title:")


def test_title_no_is_a_yaml_boolean_and_the_hint_says_quote_the_value(site):
    result = build_broken(site, {ANNOTATION_PATH: annotation(title="No")})
    assert_error(result, f"{ANNOTATION_PATH}:3:1: error: ", "'title'", "must be a string",
                 "boolean", "No", hint="quote the value")


def test_slug_with_leading_zero_is_a_number_not_a_string(site):
    text = annotation('## "keep working on"\nA note.\n', front="slug: 0123\n")
    result = build_broken(site, {ANNOTATION_PATH: text})
    assert_error(result, f"{ANNOTATION_PATH}:4:1: error: ", "'slug'", "must be a string",
                 "number", "0123", hint="quote the value")


def test_duplicate_yaml_key_points_at_the_second_one_and_names_the_first_line(site):
    text = annotation('## "keep working on"\nA note.\n', front='title: "Again"\n')
    result = build_broken(site, {ANNOTATION_PATH: text})
    assert_error(result, f"{ANNOTATION_PATH}:4:1: error: ", "duplicate field 'title'", "line 3",
                 hint="keep one of them")


def test_malformed_yaml_front_matter_points_at_its_line(site):
    text = annotation('## "keep working on"\nA note.\n', title="The harbour: reopened: today")
    result = build_broken(site, {ANNOTATION_PATH: text})
    # `title: The harbour: reopened: today` is line 3; its second ':' is at column 19.
    assert_error(result, f"{ANNOTATION_PATH}:3:19: error: ", "malformed YAML front matter",
                 "mapping values are not allowed", hint="quote values")


def test_malformed_toml_front_matter_points_at_its_line(site):
    text = f'+++\nseed = "{SEED_NAME}"\ntitle = The harbour\n+++\n## "keep working on"\nA note.\n'
    result = build_broken(site, {ANNOTATION_PATH: text})
    # `title = The harbour` is line 3; the value starts at column 9.
    assert_error(result, f"{ANNOTATION_PATH}:3:9: error: ", "malformed TOML front matter",
                 "Invalid value", hint='strings need quotes in TOML: title = "..."')


def test_unclosed_front_matter_is_reported_at_its_opening_line(site):
    text = f'---\nseed: {SEED_NAME}\ntitle: "The harbour reopens"\n\n## "keep working on"\nA note.\n'
    result = build_broken(site, {ANNOTATION_PATH: text})
    assert_error(result, f"{ANNOTATION_PATH}:1:1: error: ", "front matter", "never closed",
                 hint="add a line '---' after the last field")


# --- quotes ----------------------------------------------------------------------------------

def test_quote_not_found_hints_the_nearest_words_and_their_line_in_the_seed(site):
    text = annotation('## "keep working on"\nA note.\n', '## "an incident like one in 2002"\nX.\n')
    result = build_broken(site, {ANNOTATION_PATH: text})
    # Line 5 of the annotation is `## "keep working on"`, line 7 the bad quote; its text opens at 4.
    assert_error(result, f"{ANNOTATION_PATH}:7:4: error: ",
                 'quote "an incident like one in 2002" not found in ' + SEED_PATH,
                 hint=f'did you mean "an incident like one in 2001" ({SEED_PATH}:5)?')


def test_ambiguous_quote_lists_the_line_of_every_occurrence(site):
    result = build_broken(site, {ANNOTATION_PATH: annotation('## "the port"\nWhich one?\n')})
    line, hint = reported(result, f"{ANNOTATION_PATH}:5:4: error: ")
    assert 'quote "the port" is ambiguous' in line
    assert "3 times" in line and "lines 3, 8, 12" in line
    assert hint.startswith("  hint: ") and "#1" in hint and "#3" in hint and "[brackets]" in hint


def test_occurrence_number_beyond_the_last_occurrence_is_an_error(site):
    result = build_broken(site, {ANNOTATION_PATH: annotation('## "the port" #4\nNo such one.\n')})
    assert_error(result, f"{ANNOTATION_PATH}:5:4: error: ", '"the port" #4', "only 3 times",
                 SEED_PATH, hint="use a number from #1 to #3")


def test_quote_spanning_two_paragraphs_is_an_error(site):
    text = annotation('## "after the storm. Officials said"\nAcross a paragraph break.\n')
    result = build_broken(site, {ANNOTATION_PATH: text})
    assert_error(result, f"{ANNOTATION_PATH}:5:4: error: ", "spans two paragraphs", SEED_PATH,
                 hint="one note per paragraph")


def test_empty_quote_is_an_error(site):
    result = build_broken(site, {ANNOTATION_PATH: annotation('## ""\nNothing quoted.\n')})
    assert_error(result, f"{ANNOTATION_PATH}:5:4: error: ", "empty quote",
                 hint='## "exact words of the article"')


def test_level_two_heading_that_is_not_a_quote_is_an_error(site):
    result = build_broken(site, {ANNOTATION_PATH: annotation("## Background\nSome text.\n")})
    assert_error(result, f"{ANNOTATION_PATH}:5:4: error: ", "'Background'", "is not a quote",
                 hint='## "exact words of the article"')


# --- context entries and slugs ---------------------------------------------------------------

def test_unknown_context_entry_hints_the_nearest_slug(site):
    text = annotation('## "keep working on"\nA note. See [[hainan-2002]].\n')
    result = build_broken(site, {ANNOTATION_PATH: text})
    # Line 6 is `A note. See [[hainan-2002]].`: the brackets open at column 13.
    assert_error(result, f"{ANNOTATION_PATH}:6:13: error: ", "unknown context entry",
                 "[[hainan-2002]]", hint="did you mean [[hainan-2001]]?")


def test_duplicate_slug_across_two_annotation_files_names_both_files(site):
    first = annotation('## "keep working on"\nA.\n', front="slug: harbour-news\n")
    second = annotation('## "The mayor said"\nB.\n', front="slug: harbour-news\n")
    result = build_broken(site, {"content/a.md": first, "content/b.md": second})
    # The slug field is line 4 of each file; the second file in order is the one reported.
    assert_error(result, "content/b.md:4:1: error: ", "'harbour-news'", "content/a.md",
                 "content/b.md")


def test_illegal_slug_is_an_error_at_the_slug_field(site):
    text = annotation('## "keep working on"\nA.\n', front="slug: Bad_Slug\n")
    result = build_broken(site, {ANNOTATION_PATH: text})
    assert_error(result, f"{ANNOTATION_PATH}:4:1: error: ", "illegal slug", "Bad_Slug",
                 hint="lowercase letters, digits and '-'")


def test_reserved_slug_is_an_error_at_the_slug_field(site):
    text = annotation('## "keep working on"\nA.\n', front="slug: tags\n")
    result = build_broken(site, {ANNOTATION_PATH: text})
    assert_error(result, f"{ANNOTATION_PATH}:4:1: error: ", "'tags'", "reserved",
                 hint="slug")


# --- broken seeds ----------------------------------------------------------------------------

def test_invalid_utf8_in_a_seed_gives_the_byte_offset_and_asks_for_utf8(site):
    data = b"The harbour.\n\nCaf\xe9 owners cheered.\n"
    result = build_broken(site, {"seeds/102_cafe.txt": data})
    # b"The harbour.\n\nCaf" is 17 bytes: the bad byte is at offset 17, line 3, column 4.
    assert_error(result, "seeds/102_cafe.txt:3:4: error: ", "invalid UTF-8", "0xe9",
                 "byte offset 17", hint="re-save the file as UTF-8")


def test_impossible_seed_date_is_an_error_at_the_date(site):
    result = build_broken(site, {"seeds/102_leap.txt": "date 2023-02-30 Ships returned.\n"})
    assert_error(result, "seeds/102_leap.txt:1:6: error: ", "impossible date 2023-02-30",
                 hint="YYYY-MM-DD")


def test_seed_with_no_text_is_an_error(site):
    result = build_broken(site, {"seeds/102_empty.txt": b""})
    assert_error(result, "seeds/102_empty.txt:1:1: error: ", "no text",
                 hint="paste the article's text into the file")


def test_seed_with_only_a_date_has_no_text_after_its_date(site):
    result = build_broken(site, {"seeds/102_dated.txt": "date 2023-06-21\n"})
    assert_error(result, "seeds/102_dated.txt:2:1: error: ", "no text after its date",
                 hint="paste the article's text into the file")


# --- many errors at once ---------------------------------------------------------------------

def test_one_build_reports_every_error_of_every_file(site):
    result = build_broken(site, {
        ANNOTATION_PATH: annotation('## "keep working on"\nSee [[hainan-2002]].\n',
                                    '## "an incident like one in 2002"\nX.\n'),
        "content/other.md": annotation(seed="101_harbor.txt"),
        "seeds/102_leap.txt": "date 2023-02-30 Ships returned.\n",
    })
    assert_error(result, f"{ANNOTATION_PATH}:6:5: error: ", "[[hainan-2002]]")
    assert_error(result, f"{ANNOTATION_PATH}:7:4: error: ", "not found")
    assert_error(result, "content/other.md:2:1: error: ", "unknown seed")
    assert_error(result, "seeds/102_leap.txt:1:6: error: ", "impossible date")
    assert result.stderr.count(": error: ") == 4
    assert "4 errors" in result.stderr.splitlines()[-1]


# --- drafts ----------------------------------------------------------------------------------

def test_a_draft_is_checked_even_without_drafts_and_a_bad_quote_fails_the_build(site):
    text = annotation('## "an incident like one in 2002"\nX.\n', front="draft: true\n")
    result = build_broken(site, {ANNOTATION_PATH: text})
    assert_error(result, f"{ANNOTATION_PATH}:6:4: error: ", "not found",
                 hint='did you mean "an incident like one in 2001"')


def test_a_draft_is_built_only_with_drafts(tmp_path):
    draft = annotation('## "keep working on"\nA note.\n', front="draft: true\n")
    root = make_site(tmp_path / "site", {ANNOTATION_PATH: draft})
    plain = sitegen("build", cwd=root)
    assert plain.returncode == 0, plain.stderr
    assert not (root / "public" / "harbour").exists()
    with_drafts = sitegen("build", "--drafts", cwd=root)
    assert with_drafts.returncode == 0, with_drafts.stderr
    assert (root / "public" / "harbour" / "index.html").is_file()


def test_a_seed_whose_only_annotation_is_a_draft_gets_no_plain_page(tmp_path):
    draft = annotation('## "keep working on"\nA note.\n', front="draft: true\n")
    root = make_site(tmp_path / "site", {ANNOTATION_PATH: draft})
    result = sitegen("build", cwd=root)
    assert result.returncode == 0, result.stderr
    public = root / "public"
    assert not (public / "101-harbour").exists()
    assert "The harbour reopened" not in (public / "index.html").read_text(encoding="utf-8")
    assert not [path for path in snapshot(public) if path.startswith(("101-harbour/", "harbour/"))]

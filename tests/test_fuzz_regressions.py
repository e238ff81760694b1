"""Inputs tools/fuzz.py found breaking the contract of sitegen's entry points, shrunk by hand or by it.

The contract: parse_seed, parse_annotation, anchor_notes and build_from_files return a value or
Problems and never raise, and a Problem names a line of the file it is about. Each test below is
marked xfail(strict) while its bug is open: the fix makes it pass, and must then remove the mark.
"""

from __future__ import annotations

import pytest

from sitegen.annotations import parse_annotation
from sitegen.build import Options, build_from_files
from sitegen.seeds import decode_text

from .conftest import annotation, site_files


def lines_of(text: str) -> int:
    """The number of lines as sitegen counts them everywhere else: by '\\n', after decode_text."""
    return text.count("\n") + 1


def test_a_source_url_with_an_unclosed_bracket_is_an_error_on_its_line_not_a_crash():
    _, problems = parse_annotation("content/a.md", "---\nsource_url: p://[\n---")
    assert any(problem.where.line == 2 and "source_url" in problem.message for problem in problems)


@pytest.mark.parametrize(("files", "options", "where"), [
    ({"sitegen.toml": b"base_url='//]'"}, Options(), "sitegen.toml:1:1"),
    ({}, Options(base_url="http://["), "--base-url"),
], ids=["sitegen.toml", "--base-url"])
def test_a_base_url_with_a_stray_bracket_is_an_error_not_a_crash(files, options, where):
    site, problems = build_from_files(files, options)
    assert site is None
    assert any(str(problem.where) == where and "base_url" in problem.message for problem in problems)


def test_a_carriage_return_before_raw_html_does_not_crash_the_warning():
    _, problems = parse_annotation("content/a.md", "+++\n+++\n\r<b>")
    assert any("raw HTML" in problem.message for problem in problems)


# PyYAML counts '\r', U+0085, U+2028 and U+2029 as line breaks, and sitegen counts '\n': a field after
# one is reported lines below where sitegen numbers it, past the end of the file. Through a build only
# U+2028 and U+2029 get there (decode_text turns '\r' into '\n' and refuses U+0085).
KEY_AFTER_BREAKS = annotation(front="summary: s" + "\u2028" * 6 + "slugg: x\n")
BAD_YAML_AFTER_BREAKS = "---\n" + "\u2028" * 4 + ":\n---\n"


@pytest.mark.parametrize("text", ["---\n\r\r\rM:\n---", KEY_AFTER_BREAKS], ids=["fuzzed-cr", "u2028-build"])
def test_a_field_after_a_yaml_only_line_break_is_reported_on_a_line_of_the_file(text):
    assert_every_problem_names_a_line_of(text)


@pytest.mark.parametrize("text", ["---\n\r\r\r\r:\n---", BAD_YAML_AFTER_BREAKS],
                         ids=["fuzzed-cr", "u2028-build"])
def test_malformed_yaml_after_a_yaml_only_line_break_is_reported_on_a_line_of_the_file(text):
    assert_every_problem_names_a_line_of(text)


def assert_every_problem_names_a_line_of(text: str) -> None:
    """As parse_annotation counts lines (for text with '\\r'), or as a build does (decoded bytes)."""
    if "\r" in text:
        _, problems = parse_annotation("content/a.md", text)
        lines = lines_of(text)
    else:
        _, problems = build_from_files(site_files({"content/a.md": text}), Options())
        decoded, _ = decode_text("content/a.md", text.encode())
        lines = lines_of(decoded or text)
    ours = [problem for problem in problems if problem.where.path == "content/a.md"]
    assert ours
    assert all(1 <= problem.where.line <= lines for problem in ours), [str(p) for p in ours]

"""plain_yaml_fields: where it answers, it answers exactly as libyaml's parse does.

It reads the plain front matter nearly every file has, line by line; any line it is not sure of
sends the whole front matter to libyaml, so it must answer None whenever in doubt.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.frontmatter import PLAIN_SCALAR, _parse_yaml, _plain_scalar, plain_yaml_fields, yaml_loader

KEYS = st.sampled_from(["seed", "title", "summary", "tags", "annotator", "slug", "draft", "date",
                        "on", "Title", "_x", "source_url"])
SCALARS = st.sampled_from([
    "Sample desk", "000_86e81f4737b16704.txt", "blinken-beijing-2023", "yes", "No", "on", "OFF",
    "null", "Null", "~", "true", "True", "1_000", "0x1F", "0o17", "017", "1.5", ".inf", "-.5",
    "1e5", "2023-06-21", "2023-06-21 10:00:00", "190:20:30", "a: b", "a #b", "a#b", "it's",
    "'single'", "'it''s'", '"double"', '"with \\"escape\\""', '"a\\tb"', '"Issue #5: a"', "a, b",
    "US-China", "R&D", "Trade (EU)", "&anchor", "*alias", "!tag", "%x", "@x", "`x`", "- item",
    "? x", "| x", "> x", "[a, b]", "[]", "[ Media , Human Rights ]", "[a,]", "[a,,b]", "[[a]]",
    "[yes, no]", '["quoted", plain]', "['a', 'b c']", "[a, 'b''c']", "{a: b}", "[a] x", "",
    "Zürich", '"Zürich \u2019quoted\u2019"', '"tab\there"', "a  b", "=", "<<", "2001", "-1", "+1",
])
LINES = st.one_of(
    st.tuples(KEYS, st.sampled_from([": ", ":  ", ":", " : "]), SCALARS,
              st.sampled_from(["", "  ", " # note"])).map("".join),
    st.sampled_from(["", "# a comment", "  indented: x", "---", "...", "- item", "key", "tags:\n  - a"]),
)


@settings(max_examples=1500)
@given(st.lists(LINES, max_size=7))
def test_plain_fields_are_what_libyaml_reads(lines):
    source = "\n".join(lines)
    quick = plain_yaml_fields("content/a.md", source)
    if quick is None:
        return
    loader = yaml_loader()(source)
    try:
        loader.get_single_node()  # must parse: the quick reading never accepts broken YAML
    finally:
        loader.dispose()
    fields, problems = _parse_with_libyaml(source)
    assert problems == []
    assert quick == fields


def _parse_with_libyaml(source: str):
    import sitegen.frontmatter as frontmatter

    quick, frontmatter.plain_yaml_fields = frontmatter.plain_yaml_fields, lambda path, source: None
    try:
        return _parse_yaml("content/a.md", source)
    finally:
        frontmatter.plain_yaml_fields = quick


def test_the_plain_reading_serves_the_sample_and_the_usual_shapes():
    source = ('seed: 000_86e81f4737b16704.txt\ntitle: "Blinken in Beijing: what is at stake"\n'
              "tags: [US-China, Military]\nannotator: 'Sample desk'\nsummary: A plain phrase, with a comma.")
    fields = plain_yaml_fields("content/a.md", source)
    assert fields is not None
    assert fields["title"].value == "Blinken in Beijing: what is at stake"
    assert fields["tags"].value == ["US-China", "Military"] and fields["tags"].raw == ""
    assert (fields["summary"].where.line, fields["summary"].where.column) == (6, 1)
    assert fields == _parse_with_libyaml(source)[0]


def test_flags_are_read_as_yaml_reads_them():
    for word, value in (("true", True), ("false", False), ("yes", True), ("No", False), ("on", True)):
        source = f"draft: {word}"
        fields = plain_yaml_fields("content/a.md", source)
        assert fields is not None and fields["draft"].value is value and fields["draft"].raw == word
        assert fields == _parse_with_libyaml(source)[0]


def test_yaml_words_numbers_dates_and_duplicates_go_to_libyaml():
    for source in ("slug: 0123", "date: 2023-06-21", "tags: [a, yes]",
                   "title: a\ntitle: b", "title: 'it''s'", 'title: "a\\u0041"', "title:", "tags: [a,]"):
        assert plain_yaml_fields("content/a.md", source) is None, source


BODY_LINES = st.sampled_from(["", "Text.", "---", "+++", "## \"quote\"", "  ", "\r", "a\rb", "---\r"])


FRONT_LINES = {"---": ['title: "a"', "x: y", ""], "+++": ['title = "a"', "z = 1", ""]}  # one field each


@settings(max_examples=500)
@given(st.sampled_from(["---", "+++"]), st.sampled_from(["", " ", "\r"]), st.data(),
       st.lists(BODY_LINES, max_size=6))
def test_split_document_gives_the_text_after_the_closing_line_as_the_body(opener, spacing, data, body):
    from sitegen.frontmatter import split_document

    front = data.draw(st.lists(st.sampled_from(FRONT_LINES[opener]), max_size=4, unique=True))
    text = "\n".join([opener + spacing, *front, opener, *body])
    document, problems = split_document("content/a.md", text)
    assert document is not None, problems
    assert document.body == "\n".join(body)
    assert document.body_line == len(front) + 3


# Plain scalars of every shape YAML 1.1 types: flags, nulls, numbers in each base, times, and
# strings that look close to them.
PLAIN_WORDS = st.one_of(
    st.sampled_from(["yes", "Yes", "YES", "yEs", "no", "NO", "nO", "true", "TRUE", "tRUE", "on", "ON",
                     "oN", "off", "Off", "y", "n", "null", "NULL", "nULL", "none", "Nothing", "0", "00",
                     "012", "019", "0b101", "0b12", "0x1f", "0x1g", "1_000", "1.5", "1.", "1e5", "1.5e+3",
                     "1.5e3", "190:20:30", "1:70", "2023-06-21", "2023-6-21", "2023-06-21 10:00:00",
                     "2023-06-21t10:00:00.5 +01:00", "2023-06-21 10:00", "10 things", "2001 a", "1 000"]),
    st.from_regex(PLAIN_SCALAR, fullmatch=True).map(lambda text: text[:12]),
    st.from_regex(r"[0-9][0-9_.:eE+x -]{0,10}", fullmatch=True),
)


@settings(max_examples=3000)
@given(PLAIN_WORDS)
def test_plain_scalars_are_typed_as_pyyaml_types_them(plain):
    import yaml

    plain = plain.rstrip(" ")
    if not plain or not PLAIN_SCALAR.fullmatch(plain):
        return
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, plain, (True, False))
    expected = {"tag:yaml.org,2002:str": plain,
                "tag:yaml.org,2002:bool": yaml.constructor.SafeConstructor.bool_values.get(plain.lower())}
    assert _plain_scalar(plain) == expected.get(tag), (plain, tag)


def test_a_build_of_plain_front_matter_never_imports_pyyaml():
    import subprocess
    import sys

    code = ("import sys\nfrom sitegen.frontmatter import split_document\n"
            "split_document('content/a.md', '---\\ntitle: A\\ntags: [x, y]\\ndraft: false\\n---\\nText')\n"
            "print('yaml' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"

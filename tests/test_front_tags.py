"""quick_front_tags: where it answers, it answers as the YAML parse does (front_tags).

A wrong answer would not make a wrong site (articles rendered with wrongly guessed tags are
rendered again), but it would make a slow one; so it must say None whenever it is unsure.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from sitegen.annotations import front_tags
from sitegen.fronttags import quick_front_tags

REPO = Path(__file__).resolve().parent.parent

WORDS = ["Media", "US-China", "Nuclear Power", "R&D", "yes", "No", "on", "null", "2023", "a..b",
         "x/y", "'quoted'", '"double"', "a, b", "a # b", "&anchor", "*alias", "Trade (EU)", "", " "]
TAGS_LINES = st.one_of(
    st.lists(st.sampled_from(WORDS), max_size=4).map(lambda items: f"tags: [{', '.join(items)}]"),
    st.sampled_from(["tags: []", "tags:  [ Media ,Borders ]", "tags : [Media]", "  tags: [Media]",
                     "tags: Media", "tags:", "tags: [Media]  # why", "tags: [Media,]", "tags: [[a]]",
                     "Tags: [Media]", "tags: {a: b}", "tags: [Media,\n  Borders]", "tags:\n  - Media"]),
)
DRAFT_LINES = st.sampled_from(["draft: true", "draft: false", "draft: yes", "draft: True", "draft:",
                               "draft: 'true'", "draft : true", "draft: false # later"])
OTHER_LINES = st.sampled_from(["seed: 001.txt", 'title: "A: title"', "summary: >\n  tags: [x]",
                               "annotator: desk", "# tags: [commented]", "date: 2023-06-18"])


@st.composite
def front_matters(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.one_of(TAGS_LINES, DRAFT_LINES, OTHER_LINES), max_size=5))
    opener = draw(st.sampled_from(["---", "---", "--- ", "+++"]))
    closer = draw(st.sampled_from(["---", "---", "----", ""]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join([opener, *lines, closer, "", '## "a quote"', "A note."])


@given(front_matters())
@example('---\ntags: [a..b]\n---\n\n## "a quote"\nA note.')  # a tag the parse refuses
def test_where_the_scan_answers_it_answers_as_the_yaml_parse(text: str) -> None:
    quick = quick_front_tags(text.encode())
    if quick is not None:
        assert quick == front_tags("content/a.md", text)


def test_the_plain_front_matter_of_the_sample_and_of_the_bench_corpus_is_read_by_the_scan() -> None:
    texts = [path.read_text(encoding="utf-8") for path in sorted((REPO / "content").glob("*.md"))]
    texts.append("---\nseed: 00001_x.txt\ntitle: \"Selpav\"\nsummary: \"How.\"\n"
                 "tags: [Media, Borders, Nuclear Power]\nannotator: \"Benchmark desk\"\n---\nNotes.\n")
    texts.append("---\ntitle: t\ntags: [US-China, Trade (EU)]\ndraft: true\n---\n")
    for text in texts:
        assert quick_front_tags(text.encode()) == front_tags("content/a.md", text)


def test_what_the_scan_cannot_read_for_certain_is_left_to_the_parse() -> None:
    for text in ["---\ntags: [yes]\n---\n", "---\ntags:\n  - a\n---\n", "---\ntags: ['a, b']\n---\n",
                 "---\ntags: [a]\ntags: [b]\n---\n", "---\ndraft: yes\n---\n", "---\ntags: [a]\n",
                 "+++\ntags = ['a']\n+++\n", "\ufeff---\ntags: [a]\n---\n", "---\ntags : [a]\n---\n"]:
        assert quick_front_tags(text.encode()) is None, text
    assert quick_front_tags(b"---\ntags: [\xff]\n---\n") is None
    long = "---\n" + "".join(f"k{number}: v\n" for number in range(70)) + "tags: [a]\n---\n"
    assert quick_front_tags(long.encode()) is None  # beyond the lines it looks at
    assert front_tags("content/a.md", long) == (("a",), False)

"""Markdown in notes: safe links, highlighted code, context citations, and a quick path that
always renders exactly what markdown-it would."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sitegen.markdown import ContextLinks, is_safe_link, render_markdown, renderer
from sitegen.quickmarkdown import render_simple

LINKS = ContextLinks({"hainan-2001": "Hainan Island incident"}, "../context/")


def full(text: str) -> str:
    return renderer().render(text, {"context_links": LINKS})


def test_only_http_mailto_and_relative_links_are_safe():
    for url in ("https://a.example/x", "http://a", "mailto:x@y.z", "../x/index.html", "#note", "x.html"):
        assert is_safe_link(url), url
    for url in ("javascript:alert(1)", "JaVaScRiPt:x", "java%73cript:x", "java%2573cript:x",
                " javascript:x", "vbscript:x", "data:text/html,x", "file:///etc/passwd",
                "jav&#x61;script:x", "java\tscript:x"):
        assert not is_safe_link(url), url


def test_context_citation_links_to_the_entry_with_its_title_or_given_text():
    html = render_markdown("See [[hainan-2001]] and [[hainan-2001|the crash]].", LINKS)
    assert html.count('href="../context/hainan-2001/index.html"') == 2
    assert "Hainan Island incident</a>" in html and "the crash</a>" in html


TOKENS = st.sampled_from([
    "word", "Word", "2001", " ", " ", "  ", "\n", "\n\n", "\n \n", ".", ",", "!", "?", ":", ";", "(", ")",
    '"', "'", "*", "**", "_", "__", "`", "[", "]", "[[hainan-2001]]", "[[nope|x]]", "[[hainan-2001|y]]",
    "[a link](https://example.org/a_b?c=1&d=2)", "[x](javascript:alert(1))", "[t](../p/index.html)",
    "*em*", "**strong**", "_em_", "`co de`", "` x `", "&", "&amp;", "<", ">", "-", "#", "1.", "~~",
    "\\", "snake_case", "a*b*c", "*a **b** c*", "\t", "    ", "=", "|", "![i](x.png)", "[x]: y",
])


@settings(max_examples=1500, deadline=None)
@given(st.lists(TOKENS, max_size=25).map("".join))
@example("On *1 April* 2001 a **US** plane; see [the report](https://example.org/a?b=1&c=2).")
@example("Line one\nline two.\n\nPara two _em_, `code`.")
@example("word\t\nword")  # markdown-it keeps a trailing tab
@example("word\t \nword")  # ... and drops the spaces after it
def test_quick_path_renders_exactly_what_markdown_it_renders(text):
    quick = render_simple(text, is_safe_link, lambda slug, label: _context(slug, label))
    if quick is not None:
        assert quick == full(text)
    assert render_markdown(text, LINKS) == (full(text) if text.strip() else "")


@settings(max_examples=1500, deadline=None)
@given(st.lists(TOKENS, max_size=25).map("".join))
@example("a*b* *c* snake_case _d_ **e** __f__ ***g*** *h_")
def test_emphasis_tried_at_its_delimiters_alone_is_the_patterns_own_substitution(text):
    from sitegen.quickmarkdown import EMPHASIS, STRONG, _delimited

    for pattern, tag in ((STRONG, "strong"), (EMPHASIS, "em")):
        assert _delimited(pattern, text, tag) == pattern.sub(rf"<{tag}>\2</{tag}>", text)


def _context(slug: str, label: str) -> str:
    from sitegen.markdown import context_link_html

    return context_link_html(slug, label, LINKS)


def test_quick_path_takes_the_usual_note():
    note = ("Lloyd Austin was *US secretary of defense*. At the [Shangri-La Dialogue]"
            "(https://example.org/sld) in June 2023 the two only shook hands; see [[hainan-2001]].")
    assert render_simple(note, is_safe_link, _context) is not None

"""Rendering the article text: marks nest or split, references follow their spans, text survives."""

import markupsafe
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from sitegen.model import Anchor, Article, Location, Note, Quote
from sitegen.render import render_text
from sitegen.seeds import parse_seed

TEXT = "date 2023-01-01 Alpha beta gamma delta <b>&amp;</b> epsilon.\n\nWhy so?\n\nZeta eta theta."


def article_with(spans: list[tuple[int, int]], text: str = TEXT) -> Article:
    seed, _ = parse_seed("seeds/t.txt", text.encode())
    anchors = []
    for index, (start, end) in enumerate(spans):
        quote = Quote(seed.text[start:end], 0, end - start, None, Location("c.md", index + 1, 4))
        anchors.append(Anchor(Note(quote, "body", Location("c.md", index + 1, 1)), f"n{index}", start, end))
    ordered = sorted(range(len(anchors)), key=lambda i: (spans[i][1], spans[i][0], i))
    numbered = tuple(Anchor(anchors[i].note, anchors[i].id, anchors[i].start, anchors[i].end, n)
                     for n, i in enumerate(ordered, start=1))
    return Article("t", seed, "T", None, None, numbered)


def parse(article: Article) -> etree._Element:
    return etree.fromstring(f"<div>{render_text(article)}</div>")


def text_without_references(root: etree._Element) -> list[str]:
    blocks = []
    for block in root:
        copy = etree.fromstring(etree.tostring(block))
        for sup in list(copy.iter("sup")):
            parent = sup.getparent()
            if sup.tail:
                previous = sup.getprevious()
                if previous is not None:
                    previous.tail = (previous.tail or "") + sup.tail
                else:
                    parent.text = (parent.text or "") + sup.tail
            parent.remove(sup)
        blocks.append("".join(copy.itertext()))
    return blocks


def test_seed_markup_characters_are_shown_as_text():
    html = render_text(article_with([]))
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in html
    assert "<b>" not in html


def test_paragraphs_and_subheadings_become_p_and_h2():
    root = parse(article_with([]))
    assert [element.tag for element in root] == ["p", "h2", "p"]


def test_nested_notes_nest_marks_with_the_longer_outside():
    article = article_with([(6, 10), (0, 16)])  # "beta" inside "Alpha beta gamma"
    root = parse(article)
    outer = root.find("p/mark")
    assert outer.get("data-note") == "n1"
    assert outer.find("mark").get("data-note") == "n0"


def test_crossing_notes_split_into_marks_with_the_same_note():
    article = article_with([(0, 10), (6, 16)])  # "Alpha beta" and "beta gamma"
    root = parse(article)
    second = [m for m in root.iter("mark") if m.get("data-note") == "n1"]
    assert len(second) == 2
    assert "".join(_own_text(m) for m in second) == "beta gamma"


def test_reference_follows_its_span_and_links_to_the_note():
    root = parse(article_with([(0, 5)]))
    mark = root.find("p/mark")
    sup = mark.getnext()
    link = sup.find("a")
    assert sup.tag == "sup"
    assert (link.get("role"), link.get("href"), link.text) == ("doc-noteref", "#n0", "1")


def test_references_of_spans_ending_together_follow_number_order():
    root = parse(article_with([(6, 16), (0, 16)]))
    numbers = [a.text for a in root.iter("a")]
    assert numbers == ["1", "2"]
    hrefs = [a.get("href") for a in root.iter("a")]
    assert hrefs == ["#n1", "#n0"]


def test_two_notes_on_the_same_words_are_both_kept():
    root = parse(article_with([(0, 5), (0, 5)]))
    assert sorted(m.get("data-note") for m in root.iter("mark")) == ["n0", "n1"]
    assert len(list(root.iter("sup"))) == 2


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(0, 59), st.integers(1, 60)), max_size=8))
def test_any_set_of_notes_gives_well_formed_html_whose_text_is_the_seeds(raw_spans):
    seed_article = article_with([])
    first = seed_article.seed.blocks[0]
    spans = [(first.start + min(a, b), first.start + max(a, b)) for a, b in raw_spans if a != b]
    spans = [(start, min(end, first.end)) for start, end in spans if start < first.end]
    article = article_with(spans)
    root = parse(article)
    text = article.seed.text
    assert text_without_references(root) == [text[b.start : b.end] for b in article.seed.blocks]
    for anchor in article.anchors:
        marks = [m for m in root.iter("mark") if m.get("data-note") == anchor.id]
        covered = "".join(_own_text(m) for m in marks)
        assert covered == text[anchor.start : anchor.end]


def _own_text(mark: etree._Element) -> str:
    """The text a mark covers, without the references inside it."""
    parts = [mark.text or ""]
    for child in mark:
        if child.tag != "sup":
            parts.append(_own_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


# The sidenotes and endnotes are written by render.py; a site's own article.html may loop over
# `notes` instead. Both must give the same markup: here, the default theme's loops as they were.
SIDENOTE_LOOP = """{% for note in notes %}
  <div class="sidenote" id="side-{{ note.id }}" data-note="{{ note.id }}" role="doc-footnote" style="position-anchor: --ref-{{ note.number }}">
    <div class="sidenote-body"><span class="sidenote-number" aria-hidden="true">{{ note.number }}</span>
    {{ note.html|safe }}</div>
    <a class="sidenote-more" href="#{{ note.id }}">Note {{ note.number }} in full ↓</a>
  </div>
{% endfor %}"""  # noqa: E501
ENDNOTE_LOOP = """{% for note in notes %}
    <li id="{{ note.id }}" data-note="{{ note.id }}">
      <p class="note-quote">“{{ note.quote }}”</p>
      {{ note.html|safe }}
      <p class="note-links"><a role="doc-backlink" href="#ref-{{ note.id }}" aria-label="Back to reference {{ note.number }}">↩ Back to text</a>
      <a class="note-permalink" href="#{{ note.id }}" aria-label="Link to note {{ note.number }}">Link to this note</a>
      {% if note.source_link %}<a class="note-source" href="{{ note.source_link }}" aria-label="Quote {{ note.number }} in the original article">In the original ↗</a>{% endif %}</p>
    </li>
{% endfor %}"""  # noqa: E501


def test_sidenotes_and_endnotes_are_the_markup_of_a_template_loop_over_the_notes():
    import jinja2

    from sitegen.render import RenderedNote, render_endnotes, render_sidenotes

    notes = [RenderedNote("note-a", 1, 'an "odd" <quote> & it\'s', "<p>A <em>note</em>.</p>\n"),
             RenderedNote("note-b--v2", 12, "plain", "<p>B.</p>\n",
                          "https://example.org/a?b=1&c=2#:~:text=plain%2D'x'")]
    environment = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    assert render_sidenotes(notes) == environment.from_string(SIDENOTE_LOOP).render(notes=notes)
    assert render_endnotes(notes) == environment.from_string(ENDNOTE_LOOP).render(notes=notes)
    assert render_sidenotes([]) == render_endnotes([]) == ""


@given(st.one_of(st.text(), st.text(st.sampled_from("<>&\"'a\u2019")), st.integers(), st.dates(), st.none(),
                 st.text().map(markupsafe.Markup)))
def test_template_text_is_what_jinja_autoescape_writes(value):
    from sitegen.render import template_text

    assert template_text(value) == str(markupsafe.escape(value))
    assert type(template_text(value)) is str


@given(st.one_of(st.text(), st.text(st.sampled_from("<>&\"'a\u2019"))))
def test_the_escape_without_markupsafe_s_own_is_the_same(text):
    """Where MarkupSafe has no _escape_inner (before 3.0), five replaces escape as it does."""
    from sitegen.render import _replaced

    assert _replaced(text) == str(markupsafe.escape(text))


@given(st.data())
def test_a_paragraph_with_one_note_renders_as_the_general_nesting_does(data):
    from sitegen.render import _nest_marks, _render_span

    seed, _ = parse_seed("seeds/t.txt", TEXT.encode())
    block = data.draw(st.sampled_from(seed.blocks))
    start = data.draw(st.integers(block.start, block.end - 1))
    end = data.draw(st.integers(start + 1, block.end))
    [anchor] = article_with([(start, end)]).anchors
    assert (_render_span(seed.text, block.start, block.end, [anchor])
            == _nest_marks(seed.text, block.start, block.end, [anchor]))

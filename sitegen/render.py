"""Render an anchored article's text: highlight marks, note references, note bodies.

Pure: everything from the seed is escaped here; note Markdown goes through markdown.py.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import quote as quote_url

import markupsafe

from .markdown import ContextLinks, render_markdown
from .model import Anchor, Article, ContextEntry
from .quickmarkdown import CONTEXT_REF, html_escape


class RenderedNote(NamedTuple):
    id: str
    number: int
    quote: str
    html: str
    source_link: str = ""  # the quote on the publisher's page (a text fragment), when known


def _replaced(value: str) -> str:
    return (value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


# markupsafe.escape's own escaping of a string, without the Markup object it makes of it: in C,
# one pass instead of five replaces (a third of their time). MarkupSafe 2 has none by that name.
_escaped: Callable[[str], str] = getattr(markupsafe, "_escape_inner", _replaced)


def template_text(value: object) -> str:
    """A value as Jinja's autoescape writes it (markupsafe.escape), for HTML written here
    instead of by a template; a string is escaped without making a Markup object of it, in a
    fifth of the time. Any other value without __html__ (a number, a date) is its str() escaped,
    as markupsafe.escape does it, without the Markup object either."""
    if type(value) is not str:
        if hasattr(value, "__html__"):
            return str(markupsafe.escape(value))
        value = str(value)
    return _escaped(value)


def render_text(article: Article) -> str:
    """The article's blocks as <p> and <h2>, with every note's span marked and referenced."""
    text = article.seed.text
    by_block: dict[int, list[Anchor]] = defaultdict(list)
    block_ends = [block.end for block in article.seed.blocks]
    for anchor in article.anchors:
        by_block[_block_index(block_ends, anchor.start)].append(anchor)
    parts = []
    for index, block in enumerate(article.seed.blocks):
        inner = _render_span(text, block.start, block.end, by_block.get(index, []))
        parts.append(f"<{block.kind}>{inner}</{block.kind}>\n")
    return "".join(parts)


def _block_index(block_ends: list[int], offset: int) -> int:
    return bisect_left(block_ends, offset + 1)


def _render_span(text: str, start: int, end: int, anchors: list[Anchor]) -> str:
    if not anchors:
        return _escape(text[start:end])
    if len(anchors) == 1:  # most paragraphs with a note have one: no nesting to work out
        anchor = anchors[0]
        return (f"{_escape(text[start:anchor.start])}{_open_mark(anchor)}"
                f"{_escape(text[anchor.start:anchor.end])}</mark>{reference(anchor)}{_escape(text[anchor.end:end])}")
    return _nest_marks(text, start, end, anchors)


def _nest_marks(text: str, start: int, end: int, anchors: list[Anchor]) -> str:
    """Nest marks by start (longer outer); a mark crossing another's end is split and reopened."""
    opening: dict[int, list[Anchor]] = defaultdict(list)
    for anchor in sorted(anchors, key=lambda a: (a.start, -a.end, a.number)):
        opening[anchor.start].append(anchor)
    boundaries = sorted({a.start for a in anchors} | {a.end for a in anchors})
    out: list[str] = []
    stack: list[Anchor] = []
    position = start
    for boundary in boundaries:
        out.append(_escape(text[position:boundary]))
        position = boundary
        ending = [anchor for anchor in stack if anchor.end == boundary]
        if ending:
            depth = min(stack.index(anchor) for anchor in ending)
            closed = stack[depth:]
            del stack[depth:]
            out.append("</mark>" * len(closed))
            out.extend(reference(anchor) for anchor in sorted(ending, key=lambda a: a.number))
            for anchor in closed:
                if anchor.end != boundary:
                    out.append(_open_mark(anchor))
                    stack.append(anchor)
        for anchor in opening.get(boundary, []):
            out.append(_open_mark(anchor))
            stack.append(anchor)
    out.append(_escape(text[position:end]))
    return "".join(out)


def _open_mark(anchor: Anchor) -> str:
    return f'<mark data-note="{anchor.id}">'


def reference(anchor: Anchor) -> str:
    number = anchor.number
    return (f'<sup><a role="doc-noteref" href="#{anchor.id}" id="ref-{anchor.id}" '
            f'aria-label="Note {number}" style="anchor-name: --ref-{number}">{number}</a></sup>')


def _escape(text: str) -> str:
    """As html.escape(text, quote=False)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_notes(article: Article, contexts: dict[str, ContextEntry],
                 links: ContextLinks) -> list[RenderedNote]:
    notes = []
    source = article.annotation.source_url if article.annotation else ""
    for anchor in sorted(article.anchors, key=lambda a: a.number):
        quote = article.seed.text[anchor.start : anchor.end]
        notes.append(RenderedNote(
            id=anchor.id,
            number=anchor.number,
            quote=quote,
            html=render_note_body(anchor.note.body, contexts, links),
            source_link=text_fragment_link(source, quote) if source else "",
        ))
    return notes


def render_sidenotes(notes: list[RenderedNote]) -> str:
    """Each note as a sidenote, beside its reference on wide screens (see the theme's CSS).

    Written here rather than looped over in article.html: the loop's dozen Jinja expressions
    a note cost a page more than the rest of its template."""
    parts = []
    for note in notes:
        id_, number = template_text(note.id), note.number
        parts.append(
            f'  <div class="sidenote" id="side-{id_}" data-note="{id_}" role="doc-footnote" '
            f'style="position-anchor: --ref-{number}">\n'
            '    <div class="sidenote-body">'
            f'<span class="sidenote-number" aria-hidden="true">{number}</span>\n'
            f"    {note.html}</div>\n"
            f'    <a class="sidenote-more" href="#{id_}">Note {number} in full \u2193</a>\n'
            "  </div>\n")
    return "".join(parts)


def render_endnotes(notes: list[RenderedNote]) -> str:
    """Each note as an item of the endnotes' list: its quote, its text, a link back to its
    reference, its own link and, when known, its quote on the publisher's page."""
    parts = []
    for note in notes:
        id_, number = template_text(note.id), note.number
        source = (f'<a class="note-source" href="{template_text(note.source_link)}" aria-label="Quote '
                  f'{number} in the original article">In the original \u2197</a>' if note.source_link else "")
        parts.append(
            f'    <li id="{id_}" data-note="{id_}">\n'
            f'      <p class="note-quote">\u201c{template_text(note.quote)}\u201d</p>\n'
            f"      {note.html}\n"
            f'      <p class="note-links"><a role="doc-backlink" href="#ref-{id_}" '
            f'aria-label="Back to reference {number}">\u21a9 Back to text</a>\n'
            f'      <a class="note-permalink" href="#{id_}" aria-label="Link to note {number}">Link to this '
            f"note</a>\n{source}</p>\n"
            "    </li>\n")
    return "".join(parts)


FRAGMENT_WORDS = 5  # a long quote is found by its first and last words: textStart,textEnd


def text_fragment_link(url: str, quote: str) -> str:
    """url#:~:text=..., which browsers scroll to and highlight on the publisher's page.

    Dashes, commas and ampersands are the directive's own syntax, so they are escaped too."""
    def encode(words: list[str]) -> str:
        return quote_url(" ".join(words), safe="").replace("-", "%2D")

    words = quote.split()
    if len(words) > 2 * FRAGMENT_WORDS + 2:
        directive = f"{encode(words[:FRAGMENT_WORDS])},{encode(words[-FRAGMENT_WORDS:])}"
    else:
        directive = encode(words)
    return f"{url.split('#', 1)[0]}#:~:text={directive}"


def render_note_body(body: str, contexts: dict[str, ContextEntry], links: ContextLinks) -> str:
    """A body that is only [[slug]] stands for the entry's summary and a link to it."""
    only = CONTEXT_REF.fullmatch(body.strip())
    if only and only[1].strip() in contexts:
        entry = contexts[only[1].strip()]
        text = html_escape(only[2].strip() if only[2] else entry.title)
        return (f'<p>{_escape(entry.summary)} <a class="context-link" '
                f'href="{links.prefix}{entry.slug}/index.html">{text}</a></p>\n')
    return render_markdown(body, links)

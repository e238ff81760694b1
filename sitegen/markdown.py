"""The one configured Markdown renderer for notes, prefaces and context entries.

Pure. Raw HTML is off; only http(s), mailto and relative links are links; fenced code is
highlighted by Pygments with the named lexer only (never guessed); [[slug]] cites a context entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote

from .quickmarkdown import CONTEXT_REF, html_escape, render_simple

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline

SAFE_SCHEMES = ("http:", "https:", "mailto:")
# Compiled where first used (by re's own cache): most links are http(s) and never need it.
SCHEME = r"^\s*([a-z][a-z0-9+.\-]*):"


class ContextLinks(NamedTuple):
    """What a [[slug]] turns into on one page: the entries' titles and where they live from here."""

    titles: Mapping[str, str]
    prefix: str


def is_safe_link(url: str) -> bool:
    """Allow http(s), mailto and relative links, whatever the case or percent-encoding."""
    if url.startswith(("https://", "http://")) and url.isprintable():
        return True
    decoded = url
    for _ in range(3):
        decoded = unquote(decoded)
    from html import unescape  # here: most links are http(s), and its entity table is slow to import

    decoded = re.sub(r"[\x00-\x20\x7f]", "", unescape(decoded))
    scheme = re.match(SCHEME, decoded, re.IGNORECASE)
    return scheme is None or scheme[0].lower() in SAFE_SCHEMES


def _highlight(code: str, language: str, _attrs: str) -> str:
    from pygments import highlight as pygments_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""
    body = pygments_highlight(code, lexer, HtmlFormatter(nowrap=True))
    return f'<pre class="highlight"><code class="language-{html_escape(language)}">{body}</code></pre>'



def _context_ref(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("[[", state.pos):
        return False
    found = CONTEXT_REF.match(state.src, state.pos)
    if not found:
        return False
    if not silent:
        token = state.push("context_ref", "", 0)
        token.meta = {"slug": found[1].strip(), "text": (found[2] or "").strip()}
    state.pos = found.end()
    return True


def _render_context_ref(_self: Any, tokens: Any, index: int, _options: Any, env: Any) -> str:
    meta = tokens[index].meta
    return context_link_html(meta["slug"], meta["text"], env.get("context_links"))


def context_link_html(slug: str, text: str, links: ContextLinks | None) -> str:
    title = links.titles.get(slug) if links else None
    label = html_escape(text or title or slug)
    if title is None or links is None:
        return f'<span class="context-missing">{label}</span>'
    return f'<a class="context-link" href="{links.prefix}{slug}/index.html">{label}</a>'


@lru_cache(maxsize=1)
def renderer() -> MarkdownIt:
    """Built on first use: most notes never need it (see quickmarkdown), and it is slow to import."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("js-default", {"highlight": _highlight})
    md.enable(["table", "strikethrough"])
    md.validateLink = is_safe_link  # type: ignore[method-assign]
    md.inline.ruler.before("link", "context_ref", _context_ref)
    md.add_render_rule("context_ref", _render_context_ref)
    return md


@lru_cache(maxsize=1)
def _html_finder() -> MarkdownIt:
    """The renderer's grammar with raw HTML on: only to find where an author wrote some."""
    from markdown_it import MarkdownIt

    return MarkdownIt("js-default", {"html": True}).enable(["table", "strikethrough"])


def raw_html(text: str) -> list[tuple[int, str]]:
    """Each piece of raw HTML in text (which pages show as text), as (0-based line, the HTML)."""
    if "<" not in text:
        return []
    found = []
    for token in _html_finder().parse(text):
        if token.type == "html_block" and token.map:
            found.append((token.map[0], token.content.strip().split("\n", 1)[0]))
        elif token.type == "inline" and token.map and token.children:
            line = token.map[0]
            for child in token.children:
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                elif child.type == "html_inline":
                    found.append((line, child.content))
    return found


def render_markdown(text: str, links: ContextLinks | None = None) -> str:
    if not text.strip():
        return ""
    simple = render_simple(text, is_safe_link, lambda slug, label: context_link_html(slug, label, links))
    if simple is not None:
        return simple
    return renderer().render(text, {"context_links": links})


@lru_cache(maxsize=1)
def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter  # imported when needed: it is slow to import

    formatter = HtmlFormatter(cssclass="highlight", style="friendly")
    dark = HtmlFormatter(cssclass="highlight", style="monokai")
    light_rules = formatter.get_style_defs("pre.highlight")
    chosen_dark = dark.get_style_defs(":root[data-theme=dark] pre.highlight")
    system_dark = dark.get_style_defs(":root:not([data-theme=light]) pre.highlight")
    return f"{light_rules}\n{chosen_dark}\n@media (prefers-color-scheme: dark) {{\n{system_dark}\n}}\n"

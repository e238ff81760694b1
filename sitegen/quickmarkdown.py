"""A fast renderer for the Markdown most notes are written in: paragraphs of text with emphasis,
code spans, links and [[context]] citations.

Pure. It renders what it fully understands and returns None for anything else, which then goes
to markdown-it; a property test holds its output identical to markdown-it's. It exists because
markdown-it's general parser costs about a third of a build's time on notes this simple.
"""

from __future__ import annotations

import re
from collections.abc import Callable

PARAGRAPH_BREAK = re.compile(r"\n(?:[ \t]*\n)+")  # whole blank lines: indentation still counts
LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
# Lines that could open or close a block: headings, quotes, lists, rules, fences, code, tables,
# HTML, link reference definitions, setext underlines. Hard breaks and trailing tabs, even
# before trailing spaces (markdown-it keeps the tabs and drops only the spaces), are the line
# ends of _is_block_line.
BLOCK_START = re.compile(r"[ ]{0,3}(?:[#>+\-*=`~|<]|\d+[.)]|\[[^\]]*\]:)|[ ]*\t|[ ]{4}")
ENTITY = re.compile(r"&#?\w+;")
LINK = re.compile(r"\[([^\[\]\n*_`]+)\]\(([A-Za-z0-9\-._~:/?#@!$&*+,;=]+)\)")
# A citation of a context entry: [[slug]] or [[slug|link text]]. The one definition of the syntax.
CONTEXT_REF = re.compile(r"\[\[([^\[\]|\n]*)(?:\|([^\[\]\n]*))?\]\]")
CODE = re.compile(r"(?<!`)`([^`\n]*[^`\s][^`\n]*)`(?!`)")
# A delimiter opens after whitespace, ( " ' or the start: checked by looking back from its end
# (over it and the character before), so that each pattern starts with its delimiter and re
# skips straight to the next * or _, five times quicker than trying a look-behind everywhere.
AFTER = r"(?![^\s.,;:!?)\"'])"
STRONG = re.compile(r"(\*\*|__)(?<![^\s(\"']..)(?=[^\s*_])([^*_\n]*?[^\s*_])\1" + AFTER)
EMPHASIS = re.compile(r"([*_])(?<![^\s(\"'].)(?=[^\s*_])([^*_\n]*?[^\s*_])\1" + AFTER)


def render_simple(text: str, is_safe_link: Callable[[str], bool],
                  context_link: Callable[[str, str], str]) -> str | None:
    """HTML for text made only of simple paragraphs, or None when markdown-it must decide."""
    if not text.strip():
        return ""
    if "\x00" in text or _holds_unsupported(text) or ("&" in text and ENTITY.search(text)):
        return None
    if text[0] in " \t\n":  # most notes start with their first word: no blank lines to drop
        text = LEADING_BLANK_LINES.sub("", text)
    paragraphs = []
    for paragraph in PARAGRAPH_BREAK.split(text.rstrip()):
        if "\n" in paragraph:
            lines = paragraph.split("\n")
            if any(_is_block_line(line) for line in lines):
                return None
            paragraph = "\n".join(line.strip() for line in lines)
        elif _is_block_line(paragraph):  # a paragraph of one line, as most are
            return None
        else:
            paragraph = paragraph.strip()
        inline = _render_inline(paragraph, is_safe_link, context_link)
        if inline is None:
            return None
        paragraphs.append(f"<p>{inline}</p>\n")
    return "".join(paragraphs)


def _render_inline(text: str, is_safe_link: Callable[[str], bool],
                   context_link: Callable[[str, str], str]) -> str | None:
    pieces: list[str] = []

    def keep(rendered: str) -> str:
        pieces.append(rendered)
        return f"\x00{len(pieces) - 1}\x00"

    def code(found: re.Match[str]) -> str:
        content = found[1]
        if content.startswith(" ") and content.endswith(" ") and content.strip():
            content = content[1:-1]
        return keep(f"<code>{_escape(content)}</code>")

    def link(found: re.Match[str]) -> str | None:
        if not is_safe_link(found[2]):
            raise _UnsupportedError
        return keep(f'<a href="{_escape(found[2])}">{_escape(found[1])}</a>')

    try:  # each pattern only where its opening character occurs: most notes have few
        if "`" in text:
            text = CODE.sub(code, text)
        if "[[" in text:
            text = CONTEXT_REF.sub(lambda found: keep(context_link(found[1].strip(),
                                                               (found[2] or "").strip())), text)
        if "](" in text:
            text = LINK.sub(link, text)  # type: ignore[arg-type]
    except _UnsupportedError:
        return None
    if "[" in text or "]" in text or "`" in text:
        return None
    text = _escape(text)
    if "**" in text or "__" in text:
        text = _delimited(STRONG, text, "strong")
    if "*" in text or "_" in text:
        text = _delimited(EMPHASIS, text, "em")
        if "*" in text or "_" in text:
            return None
    for number, piece in enumerate(pieces):  # no piece holds \x00: none replaces another's mark
        text = text.replace(f"\x00{number}\x00", piece, 1)
    return text


def _delimited(pattern: re.Pattern[str], text: str, tag: str) -> str:
    """pattern.sub(<tag>text</tag>) for STRONG or EMPHASIS, which match only where a '*' or a
    '_' is: tried at those alone, found by str.find, in half the time of re's own scan, which
    tries the pattern at every character of the text."""
    parts: list[str] = []
    done = start = 0
    while True:
        star, underscore = text.find("*", start), text.find("_", start)
        at = underscore if star < 0 or 0 <= underscore < star else star
        if at < 0:
            break
        found = pattern.match(text, at)  # its look-behind still sees the text before `at`
        if found is None:
            start = at + 1
            continue
        parts += (text[done:at], f"<{tag}>{found[2]}</{tag}>")
        done = start = found.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def _holds_unsupported(text: str) -> bool:
    """Whether text holds what only markdown-it renders: HTML, escapes, images, strikethrough,
    reference links (entities are looked for apart). Six tests written out: a generator over
    the six strings costs more than the tests."""
    return ("<" in text or "\\" in text or "![" in text or "~~" in text or "][" in text
            or "[]" in text)


def _is_block_line(line: str) -> bool:
    return (BLOCK_START.match(line) is not None or line.endswith(("  ", "\\"))
            or line.rstrip(" ").endswith("\t"))


class _UnsupportedError(Exception):
    pass


def _escape(text: str) -> str:
    """As html.escape(text, quote=False), and '"' too (as markdown-it escapes text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def html_escape(text: str) -> str:
    """As html.escape(text): that module imports its table of entities, 1.5 ms a start."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&#x27;"))

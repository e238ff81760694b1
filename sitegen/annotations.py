"""Parse annotation files and context entries: front matter, preface, one note per quote heading.

Pure: takes text, returns Annotation / ContextEntry values and Problems.
"""

from __future__ import annotations

import re

from .frontmatter import FieldReader, is_web_address, split_document, unknown_fields
from .markdown import raw_html
from .model import Annotation, ContextEntry, ContextRef, Location, Note, Problem, Quote
from .quickmarkdown import CONTEXT_REF

SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # line breaks, NUL: never in a tag
RESERVED_SLUGS = frozenset({"context", "tags", "page", "assets"})
ANNOTATION_FIELDS = ("seed", "title", "summary", "tags", "annotator", "date", "draft", "slug",
                     "source_url")
CONTEXT_FIELDS = ("title", "summary")

HEADING_START = re.compile(r" {0,3}##")  # a level-2 heading: see heading_text
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
QUOTE = re.compile(r"[\"“](?P<text>.*)[\"”](?:[ \t]*#(?P<occurrence>\d+))?")
QUOTE_HINT = 'a note heading is a quote of the article: ## "exact words of the article"'


def parse_annotation(path: str, text: str) -> tuple[Annotation | None, list[Problem]]:
    document, problems = split_document(path, text)
    if document is None:
        return None, problems
    fields = FieldReader(path, document.fields)
    stem = path.rsplit("/", 1)[-1].removesuffix(".md")
    slug = fields.string("slug") or stem
    given = document.fields.get("slug")
    if given is None:
        problems += _check_slug(slug, Location(path), False)
    else:  # checked as written: stripping must not make 'abc\n' legal
        problems += _check_slug(given.value if isinstance(given.value, str) and given.value else slug,
                                given.where, True)
    source_url = fields.string("source_url")
    if source_url and not is_web_address(source_url):
        problems.append(Problem(document.fields["source_url"].where,
                                f"source_url must be an http(s) URL, not {source_url!r}",
                                "write the article's address, starting with https://"))
    preface, sections = _split_sections(document.body, document.body_line)
    notes, note_problems = _parse_notes(path, sections)
    annotation = Annotation(
        path=path,
        seed=fields.string("seed", required=True).removeprefix("seeds/"),
        field_locations=tuple((key, field.where) for key, field in document.fields.items()),
        title=fields.string("title", required=True),
        slug=slug,
        summary=fields.string("summary"),
        tags=_clean_tags(fields, problems),
        annotator=fields.string("annotator"),
        date=fields.date("date"),
        draft=fields.boolean("draft"),
        source_url=source_url,
        preface=preface[1].strip(),
        preface_refs=find_context_refs(path, preface[1], preface[0]),
        notes=tuple(notes),
    )
    problems += fields.problems + note_problems + raw_html_warnings(path, preface[1], preface[0])
    problems += unknown_fields(document.fields, ANNOTATION_FIELDS)
    return annotation, problems


def front_tags(path: str, text: str) -> tuple[tuple[str, ...], bool] | None:
    """An annotation's tags and draft flag, read from its front matter alone as parse_annotation
    reads them: cheap, for knowing the site's tags before any article is anchored. None when
    the front matter is unreadable."""
    document, _ = split_document(path, text)
    if document is None:
        return None
    fields = FieldReader(path, document.fields)
    return _clean_tags(fields, []), fields.boolean("draft")


def parse_context_entry(path: str, text: str) -> tuple[ContextEntry | None, list[Problem]]:
    document, problems = split_document(path, text)
    if document is None:
        return None, problems
    fields = FieldReader(path, document.fields)
    slug = path.rsplit("/", 1)[-1].removesuffix(".md")
    problems += _check_slug(slug, Location(path), False)
    entry = ContextEntry(
        path=path,
        slug=slug,
        title=fields.string("title", required=True),
        summary=fields.string("summary", required=True),
        body=document.body.strip(),
        refs=find_context_refs(path, document.body, document.body_line),
    )
    problems += fields.problems + unknown_fields(document.fields, CONTEXT_FIELDS)
    problems += raw_html_warnings(path, document.body, document.body_line)
    return entry, problems


def _check_slug(slug: str, where: Location, from_field: bool) -> list[Problem]:
    origin = "field 'slug'" if from_field else "the file name"
    if not SLUG.fullmatch(slug):
        return [Problem(where, f"illegal slug {slug!r} (from {origin})",
                        "a slug is lowercase letters, digits and '-', starting with a letter or digit")]
    if slug in RESERVED_SLUGS:
        return [Problem(where, f"slug {slug!r} is reserved for the site's own pages",
                        "set another slug: in the front matter")]
    return []


def _clean_tags(fields: FieldReader, problems: list[Problem]) -> tuple[str, ...]:
    tags = []
    for tag in fields.string_list("tags"):
        name = " ".join(tag.split())
        if not name or ".." in name or any(char in name for char in "/\\") or CONTROL.search(tag):
            problems.append(Problem(fields.fields["tags"].where, f"illegal tag {tag!r}",
                                    "a tag is a word or short phrase on one line, without '/', '\\' "
                                    "or '..'"))
        else:
            tags.append(name)
    return tuple(tags)


def _split_sections(body: str, first_line: int) -> tuple[tuple[int, str], list[tuple[int, str]]]:
    """The preface and each note section as (line of its first line, text); fences respected."""
    lines = body.split("\n")
    starts = []
    fence = ""
    for index, line in enumerate(lines):
        opened = FENCE.match(line) if line[:4].strip()[:1] in ("`", "~") else None
        if fence:
            if opened and opened[1][0] == fence[0] and len(opened[1]) >= len(fence):
                fence = ""
        elif opened:
            fence = opened[1]
        elif "##" in line[:5] and heading_text(line) is not None:
            starts.append(index)
    preface_end = starts[0] if starts else len(lines)
    preface = (first_line, "\n".join(lines[:preface_end]))
    sections = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        sections.append((first_line + start, "\n".join(lines[start:end])))
    return preface, sections


def _parse_notes(path: str, sections: list[tuple[int, str]]) -> tuple[list[Note], list[Problem]]:
    notes, problems = [], []
    for line, section in sections:
        heading, _, body = section.partition("\n")
        quote, problem = parse_quote(path, line, heading)
        if problem:
            problems.append(problem)
            continue
        assert quote is not None
        refs = find_context_refs(path, body, line + 1)
        notes.append(Note(quote, body.strip(), Location(path, line, 1), refs))
        problems += raw_html_warnings(path, body, line + 1)
    return notes, problems


def heading_text(line: str) -> str | None:
    """The text of a level-2 ATX heading (`## text`, up to 3 spaces before, an optional closing
    run of #s after whitespace), or None if the line is none. Read with string methods: the
    regular expression this replaces, with its lazy text, cost 3 us a heading."""
    start = HEADING_START.match(line)
    if start is None:
        return None
    rest = line[start.end() :]
    if rest and rest[0] not in " \t":
        return None  # ###, or ##text
    text = rest.strip(" \t")
    before_closing = text.rstrip("#")
    if before_closing != text and before_closing != before_closing.rstrip(" \t"):
        text = before_closing.rstrip(" \t")  # "## text ##": the closing run is not the text
    return text


def parse_quote(path: str, line: int, heading: str) -> tuple[Quote | None, Problem | None]:
    content = heading_text(heading) or ""
    column = heading.find(content) + 1 if content else heading.find("#") + 1
    where = Location(path, line, column)
    match = QUOTE.fullmatch(content)
    if not match:
        return None, Problem(where, f"heading {content!r} is not a quote", QUOTE_HINT)
    raw = match["text"]
    occurrence = int(match["occurrence"]) if match["occurrence"] else None
    if occurrence == 0:
        return None, Problem(where, "occurrence #0 does not exist", "occurrences count from #1")
    opens, closes = raw.count("["), raw.count("]")
    if opens == closes == 0:
        text, start, end = raw, 0, len(raw)
    elif opens == closes == 1 and raw.index("[") < raw.index("]"):
        start = raw.index("[")
        end = raw.index("]") - 1
        text = raw.replace("[", "", 1).replace("]", "", 1)
    else:
        return None, Problem(where, f"quote {raw!r} has unbalanced brackets",
                             "mark the words to highlight with one pair: \"context, [words]\"")
    if not text.strip():
        return None, Problem(where, "empty quote", QUOTE_HINT)
    if not text[start:end].strip():
        return None, Problem(where, "the brackets of this quote hold no words",
                             "put the words to highlight inside the brackets")
    return Quote(text, start, end, occurrence, where), None


def raw_html_warnings(path: str, text: str, first_line: int) -> list[Problem]:
    """One warning for each line of Markdown that holds raw HTML: pages show it as text."""
    if "<" not in text:  # no HTML without it: most notes
        return []
    lines = re.split(r"\r\n?|\n", text)  # as markdown-it counts lines
    warnings = {}
    for index, markup in raw_html(text):
        column = max(lines[index].find(markup), 0) + 1
        where = Location(path, first_line + index, column)
        warnings.setdefault(index, Problem(where, f"raw HTML {markup[:40]!r} is shown as text, not as markup",
                                           "write Markdown instead: *emphasis*, [text](https://...)",
                                           "warning"))
    return list(warnings.values())


def find_context_refs(path: str, text: str, first_line: int) -> tuple[ContextRef, ...]:
    if "[[" not in text:
        return ()
    refs = []
    line, line_start = first_line, 0  # of the line the search has reached
    for found in CONTEXT_REF.finditer(text):  # no match spans lines: the pattern excludes \n
        start = found.start()
        breaks = text.count("\n", line_start, start)
        if breaks:
            line += breaks
            line_start = text.rfind("\n", 0, start) + 1
        refs.append(ContextRef(found[1].strip(), Location(path, line, start - line_start + 1)))
    return tuple(refs)

"""The values that cross module boundaries: read this file first.

Everything here is immutable; stages take these values and return new ones, never mutate them.
They are named tuples rather than frozen dataclasses: a build makes some ninety of them for each
article, each in half the time, and every start of the program defines these classes, each in a
seventh of the time (the dataclasses, and the modules that define them, took some 15 ms of every
build's start-up). A Seed compares by identity and an Article by its fingerprint (see each).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit


class Location(NamedTuple):
    """A place in a source file; line and column are 1-based, as editors count them."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.path
        if not self.column:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"


class Problem(NamedTuple):
    """A mistake in the user's input (an error) or something worth their attention (a warning)."""

    where: Location
    message: str
    hint: str = ""
    severity: Literal["error", "warning"] = "error"

    @property
    def order(self) -> tuple[str, int, int]:
        """Sort key: by file, then line, then column, as a compiler lists them."""
        return self.where.path, self.where.line, self.where.column

    def __str__(self) -> str:
        text = f"{self.where}: {self.severity}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known word most like `word`, if one is close enough for a "did you mean" hint.
    (difflib is imported when a hint needs it: most builds have nothing to hint at.)"""
    from difflib import get_close_matches

    close = get_close_matches(word, list(known), n=1)
    return close[0] if close else None


class UserError(Exception):
    """A reason to stop that is not in one source file (the output folder, git): what happened
    and what to do about it, printed as `sitegen: error: MESSAGE` and `  hint: HINT`."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = f"sitegen: error: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class Block(NamedTuple):
    """A paragraph or subheading of an article: text[start:end] in the article's text."""

    kind: Literal["p", "h2"]
    start: int
    end: int


class Seed(NamedTuple):
    """A raw article: its text after the optional date token, line endings normalised to \\n.

    Compared by identity: a build parses each seed file once, and rebuilds reuse the same Seed
    while its bytes are unchanged, so identity is equality here, and hashing it costs nothing.
    """

    path: str
    name: str
    date: dt.date | None
    text: str
    blocks: tuple[Block, ...]
    first_line: int

    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def line_of(self, offset: int) -> int:
        """The 1-based line of the seed file that holds text[offset]."""
        return self.first_line + self.text.count("\n", 0, offset)

    def first_sentence(self) -> str:
        if not self.blocks:
            return self.name
        first = self.blocks[0]
        paragraph = " ".join(self.text[first.start : first.end].split())
        for index, char in enumerate(paragraph):
            if char in ".!?" and (index + 1 == len(paragraph) or paragraph[index + 1] == " "):
                return paragraph[: index + 1]
        return paragraph


class Quote(NamedTuple):
    """A note's heading: the words to find, the part of them to highlight, which occurrence."""

    text: str
    highlight_start: int
    highlight_end: int
    occurrence: int | None
    where: Location

    @property
    def label(self) -> str:
        """The quote as the author wrote it, brackets included, for messages."""
        if self.highlight_start == 0 and self.highlight_end == len(self.text):
            return self.text
        text, start, end = self.text, self.highlight_start, self.highlight_end
        return f"{text[:start]}[{text[start:end]}]{text[end:]}"


class ContextRef(NamedTuple):
    """A [[slug]] or [[slug|text]] citation of a context entry."""

    slug: str
    where: Location


class Note(NamedTuple):
    quote: Quote
    body: str
    where: Location
    refs: tuple[ContextRef, ...] = ()


class Annotation(NamedTuple):
    """One file of content/: front matter, an optional preface, and notes on one seed."""

    path: str
    seed: str
    title: str
    slug: str
    summary: str = ""
    tags: tuple[str, ...] = ()
    annotator: str = ""
    date: dt.date | None = None
    draft: bool = False
    source_url: str = ""
    field_locations: tuple[tuple[str, Location], ...] = ()
    preface: str = ""
    preface_refs: tuple[ContextRef, ...] = ()
    notes: tuple[Note, ...] = ()

    def where(self, field: str) -> Location:
        """Where a front-matter field was written; the file's first line when it was not."""
        return dict(self.field_locations).get(field, Location(self.path, 1, 1))

    @property
    def refs(self) -> tuple[ContextRef, ...]:
        """Every citation of a context entry: the notes' in file order, then the preface's."""
        return tuple(ref for note in self.notes for ref in note.refs) + self.preface_refs


class ContextEntry(NamedTuple):
    path: str
    slug: str
    title: str
    summary: str
    body: str
    refs: tuple[ContextRef, ...] = ()


class Anchor(NamedTuple):
    """A note placed in its seed: seed.text[start:end] is the highlighted span."""

    note: Note
    id: str
    start: int
    end: int
    number: int = 0


class Article(NamedTuple):
    """A page to publish: a seed with its anchored notes (none for a plain seed).

    Two articles are equal when made from the same source bytes (the fingerprint), which keeps
    comparing and hashing them cheap when rebuilds look their pages up by them.
    """

    slug: str
    seed: Seed
    title: str
    date: dt.date | None
    annotation: Annotation | None
    anchors: tuple[Anchor, ...] = ()
    fingerprint: bytes = b""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Article):
            return NotImplemented
        if self.fingerprint and other.fingerprint:
            return self.fingerprint == other.fingerprint
        return self is other

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self.fingerprint) if self.fingerprint else id(self)

    @property
    def listing(self) -> Listing:
        return Listing(self.slug, self.title, self.date, self.summary, len(self.anchors), self.tags)

    @property
    def source(self) -> str:
        return self.annotation.path if self.annotation else self.seed.path

    @property
    def summary(self) -> str:
        return self.annotation.summary if self.annotation else ""

    @property
    def annotator(self) -> str:
        return self.annotation.annotator if self.annotation else ""

    @property
    def tags(self) -> tuple[str, ...]:
        return self.annotation.tags if self.annotation else ()


class Listing(NamedTuple):
    """What a list page shows of an article: a list page whose listings are unchanged is too.

    A tuple, so that the keys of list pages (tuples of many listings) hash in C."""

    slug: str
    title: str
    date: dt.date | None
    summary: str
    notes: int
    tags: tuple[str, ...]


class Config(NamedTuple):
    title: str = "Annotated articles"
    base_url: str = ""
    description: str = ""
    language: str = "en"
    author: str = ""
    cname: str = ""  # a custom domain for GitHub Pages: written to CNAME
    where: str = "sitegen.toml"

    @property
    def base_path(self) -> str:
        """The path part of base_url, always starting and ending with '/'."""
        path = urlsplit(self.base_url).path if self.base_url else "/"
        return path if path.endswith("/") else path + "/"


class Site(NamedTuple):
    """The whole output: relative path -> bytes. Nothing is on disk yet."""

    files: dict[str, bytes]
    articles: int = 0
    notes: int = 0
    contexts: int = 0
    base_path: str = "/"
    origins: dict[str, str] | None = None  # page -> the source file it shows
    # built with a memo (the dev server): a build.Snapshot, to rebuild one article at a time
    snapshot: Any = None

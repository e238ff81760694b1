"""Find each note's quote in its seed; every text normalisation of the project lives here.

Pure. Matching ignores whitespace, quote-mark, dash and Unicode-form differences, never case;
offsets always come back in the seed's own characters, so the page shows them as written.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from .model import Anchor, Note, Problem, Seed

FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    **{chr(code): "-" for code in range(0x2010, 0x2016)},
    "\u2212": "-",
})
WHITESPACE = re.compile(r"\s+")
SPECIAL_WHITESPACE = re.compile(r"[^\S ]\s*| \s+")  # any run but a lone space
NOT_IN_SLUG = re.compile(r"[^a-z0-9]+")
PARAGRAPH_BREAK = "\n"
SUSPECT = {"\u2026": "an ellipsis", "\ufb01": "a ligature", "\ufb02": "a ligature",
           "\ufb00": "a ligature", "\ufb03": "a ligature", "\ufb04": "a ligature",
           "\u200b": "a zero-width space", "\u200c": "a zero-width non-joiner",
           "\u200d": "a zero-width joiner", "\u2060": "a word joiner", "\ufeff": "a zero-width space",
           "\u00ad": "a soft hyphen"}
PREFIX_SUFFIX = 32


class Normalised(NamedTuple):
    """A seed's text folded for matching, with the way back to the seed's own offsets.

    pieces holds (norm_start, orig_start, norm_length, orig_length) for each stretch that did not
    map one to one (a collapsed whitespace run, a composed character); between them it does.
    """

    text: str
    piece_starts: tuple[int, ...]
    pieces: tuple[tuple[int, int, int, int], ...]

    def _piece(self, index: int) -> tuple[int, int, int, int]:
        position = bisect.bisect_right(self.piece_starts, index) - 1
        return self.pieces[position] if position >= 0 else (0, 0, 0, 0)

    def start_in_seed(self, index: int) -> int:
        norm_start, orig_start, norm_length, orig_length = self._piece(index)
        if index < norm_start + norm_length and norm_length != orig_length:
            return orig_start
        return orig_start + orig_length + (index - norm_start - norm_length)

    def end_in_seed(self, index: int) -> int:
        norm_start, orig_start, norm_length, orig_length = self._piece(index - 1)
        if index - 1 < norm_start + norm_length and norm_length != orig_length:
            return orig_start + orig_length
        return orig_start + orig_length + (index - norm_start - norm_length)


def normalise_seed(text: str) -> Normalised:
    specials = _whitespace_runs(text)
    if not unicodedata.is_normalized("NFC", text):
        specials = sorted(specials + _composed_clusters(text))
    parts, piece_starts, pieces = [], [], []
    norm_length = orig_position = 0
    for start, end, replacement in specials:
        parts.append(text[orig_position:start])
        norm_length += start - orig_position
        piece_starts.append(norm_length)
        pieces.append((norm_length, start, len(replacement), end - start))
        parts.append(replacement)
        norm_length += len(replacement)
        orig_position = end
    parts.append(text[orig_position:])
    joined = "".join(parts)
    folded = joined if joined.isascii() else joined.translate(FOLD)  # FOLD maps no ASCII character
    return Normalised(folded, tuple(piece_starts), tuple(pieces))


# Whitespace other than the line break and the lone space: where it occurs, the regular
# expression finds the runs; elsewhere (nearly every article) a scan for line breaks does.
ODD_SPACING = ("  ", " \n", "\n ", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


def _whitespace_runs(text: str) -> list[tuple[int, int, str]]:
    """(start, end, folded) for every run of whitespace but a lone space. The scan is the same
    as SPECIAL_WHITESPACE's but over four times as quick: re tries the pattern at every space."""
    if not text.isascii() or any(odd in text for odd in ODD_SPACING):
        return [(found.start(), found.end(), _fold_whitespace(found[0]))
                for found in SPECIAL_WHITESPACE.finditer(text)]
    runs = []
    start = text.find("\n")
    while start != -1:
        end = start + 1
        while text.startswith("\n", end):
            end += 1
        runs.append((start, end, PARAGRAPH_BREAK if end - start >= 2 else " "))
        start = text.find("\n", end)
    return runs


def _fold_whitespace(run: str) -> str:
    return PARAGRAPH_BREAK if run.count("\n") >= 2 else " "


def _composed_clusters(text: str) -> list[tuple[int, int, str]]:
    """Base characters with their combining marks, where NFC changes them."""
    clusters = []
    index = 0
    while index < len(text):
        end = index + 1
        while end < len(text) and unicodedata.combining(text[end]):
            end += 1
        cluster = text[index:end]
        if not text[index].isspace():
            composed = unicodedata.normalize("NFC", cluster)
            if composed != cluster:
                clusters.append((index, end, composed))
        index = end
    return clusters


def normalise_quote(text: str, start: int, end: int) -> tuple[str, int, int]:
    """The quote folded like a seed; (start, end) is the highlighted part within it."""
    if start == 0 and end == len(text):
        if not text.isascii():  # ASCII is in NFC, and FOLD maps none of it
            text = unicodedata.normalize("NFC", text).translate(FOLD)
        folded = " ".join(text.split())  # str.split's whitespace is re's \s
        return folded, 0, len(folded)
    marked = text[:start] + "\ue000" + text[start:end] + "\ue001" + text[end:]
    folded = WHITESPACE.sub(" ", unicodedata.normalize("NFC", marked).translate(FOLD))
    out: list[str] = []
    marks = {}
    for char in folded:
        if char in "\ue000\ue001":
            marks[char] = len(out)
        elif char != " " or (out and out[-1] != " "):
            out.append(char)
    while out and out[-1] == " ":
        out.pop()
    result = "".join(out)
    low, high = min(marks["\ue000"], len(result)), min(marks["\ue001"], len(result))
    while low < high and result[low] == " ":
        low += 1
    while high > low and result[high - 1] == " ":
        high -= 1
    return result, low, high


def anchor_notes(seed: Seed, notes: tuple[Note, ...],
                 normalised: Normalised | None = None) -> tuple[tuple[Anchor, ...], list[Problem]]:
    """Place every note in the seed, number them in reading order and give each a stable id."""
    folded = normalised or normalise_seed(seed.text)
    placed: list[tuple[Note, int, int]] = []
    problems = []
    for note in notes:
        span, problem = _place(seed, folded, note)
        if problem:
            problems.append(problem)
        elif span:
            placed.append((note, *span))
    return number_anchors(placed), problems


def find_occurrences(haystack: str, needle: str) -> list[int]:
    found = []
    index = haystack.find(needle)
    while index != -1:
        found.append(index)
        index = haystack.find(needle, index + 1)
    return found


def _place(seed: Seed, folded: Normalised,
           note: Note) -> tuple[tuple[int, int] | None, Problem | None]:
    quote = note.quote
    text, low, high = normalise_quote(quote.text, quote.highlight_start, quote.highlight_end)
    occurrences = find_occurrences(folded.text, text)
    label = quote.label
    if not occurrences:
        return None, _not_found(seed, folded, note, text)
    if quote.occurrence is None and len(occurrences) > 1:
        lines = ", ".join(str(seed.line_of(folded.start_in_seed(i))) for i in occurrences)
        message = (f'quote "{label}" is ambiguous: it occurs {len(occurrences)} times in '
                   f"{seed.path} (lines {lines})")
        hint = (f'add #1 to #{len(occurrences)} after the closing quote, or quote more words and '
                "mark the ones to highlight with [brackets]")
        return None, Problem(quote.where, message, hint)
    number = quote.occurrence or 1
    if number > len(occurrences):
        times = "once" if len(occurrences) == 1 else f"{len(occurrences)} times"
        message = f'quote "{label}" #{number}: it occurs only {times} in {seed.path}'
        return None, Problem(quote.where, message, f"use a number from #1 to #{len(occurrences)}")
    index = occurrences[number - 1]
    return (folded.start_in_seed(index + low), folded.end_in_seed(index + high)), None


def _not_found(seed: Seed, folded: Normalised, note: Note, text: str) -> Problem:
    quote = note.quote
    message = f'quote "{quote.label}" not found in {seed.path}'
    if find_occurrences(folded.text.replace(PARAGRAPH_BREAK, " "), text):
        message = f'quote "{quote.label}" spans two paragraphs of {seed.path}'
        return Problem(quote.where, message, "a quote lies within one paragraph or subheading: "
                       "make one note per paragraph")
    hints = [_suspect_characters(text, folded.text)]
    lowered = folded.text.lower().find(text.lower())
    if lowered != -1:
        written = _seed_words(seed, folded, lowered, lowered + len(text))
        hints.append(f'quotes are case-sensitive: the article has "{written}"')
    else:
        nearest = _nearest(folded.text, text)
        if nearest:
            start, end = nearest
            written = _seed_words(seed, folded, start, end)
            line = seed.line_of(folded.start_in_seed(start))
            hints[0] = hints[0] or _suspect_characters(folded.text[start:end], text, "the article",
                                                         "the quote")
            hints.append(f'did you mean "{written}" ({seed.path}:{line})?')
    hint = "; ".join(part for part in hints if part) or "copy the words exactly from the article"
    return Problem(quote.where, message, hint)


def _seed_words(seed: Seed, folded: Normalised, start: int, end: int) -> str:
    return " ".join(seed.text[folded.start_in_seed(start) : folded.end_in_seed(end)].split())


def _suspect_characters(text: str, other: str, holder: str = "the quote",
                        lacking: str = "the article") -> str:
    """Names an invisible or look-alike character of text that other lacks: the likely culprit."""
    for char in dict.fromkeys(text):
        if char not in other and (char in SUSPECT or not char.isprintable()):
            kind = SUSPECT.get(char, "an invisible character")
            name = unicodedata.name(char, f"U+{ord(char):04X}")
            return f"{holder} has {kind}, U+{ord(char):04X} {name}, which {lacking} does not"
    return ""


def _nearest(article: str, quote: str) -> tuple[int, int] | None:
    """The window of the article most like the quote, if any is close; bounded in cost."""
    from difflib import SequenceMatcher  # imported for a quote not found: most builds have none

    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(quote)
    best, best_ratio = None, 0.6
    size = len(quote)
    starts = [0, *(found.end() for found in re.finditer(r"[ \n]", article))]
    for start in starts[:200_000]:
        window = article[start : start + size]
        matcher.set_seq1(window)
        if matcher.real_quick_ratio() > best_ratio and matcher.quick_ratio() > best_ratio:
            ratio = matcher.ratio()
            if ratio > best_ratio:
                best, best_ratio = start, ratio
    if best is None:
        return None
    end = best + size
    while end < len(article) and article[end - 1].isalnum() and article[end].isalnum():
        end += 1
    return best, end


def number_anchors(placed: list[tuple[Note, int, int]]) -> tuple[Anchor, ...]:
    """Number in reading order (by end, then start) and give ids derived from the quote."""
    order = sorted(range(len(placed)), key=lambda i: (placed[i][2], placed[i][1], i))
    ids = note_ids([note for note, _, _ in placed])
    return tuple(Anchor(placed[i][0], ids[i], placed[i][1], placed[i][2], number)
                 for number, i in enumerate(order, start=1))


def note_ids(notes: list[Note]) -> list[str]:
    """`note-` + the highlighted words; equal quotes get --2, --3 in file order."""
    ids, seen = [], set()
    for note in notes:
        quote = note.quote
        words = quote.text[quote.highlight_start : quote.highlight_end]
        base = "note-" + (_shorten(slugify(words), 40) or "quote")
        if quote.occurrence and quote.occurrence > 1:
            base += f"--{quote.occurrence}"
        candidate, count = base, 1
        while candidate in seen:
            count += 1
            candidate = f"{base}--v{count}"
        seen.add(candidate)
        ids.append(candidate)
    return ids


def _shorten(slug: str, limit: int) -> str:
    """Whole words of a slug, as many as fit in limit characters (always at least one)."""
    words = slug.split("-")
    length = len(words[0])
    for count, word in enumerate(words[1:], start=1):
        length += 1 + len(word)
        if length > limit:
            return "-".join(words[:count])
    return slug


@lru_cache(maxsize=8192)  # tags and quotes repeat across a site's pages
def slugify(text: str) -> str:
    ascii_text = text if text.isascii() else (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode())
    return NOT_IN_SLUG.sub("-", ascii_text.lower()).strip("-")


def selector_context(seed: Seed, start: int, end: int) -> tuple[str, str]:
    """The prefix and suffix of a TextQuoteSelector."""
    return seed.text[max(0, start - PREFIX_SUFFIX) : start], seed.text[end : end + PREFIX_SUFFIX]

"""Parse a raw article file into a Seed: date token, paragraphs, subheadings.

Pure: takes bytes, returns values and Problems; never reads or writes files.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from .model import Block, Location, Problem, Seed

DATE_TOKEN = re.compile(r"date[ \t]+(\d{4})-(\d{2})-(\d{2})(?=\s|$)")
BLANK_LINES = re.compile(r"\n[ \t\f\v]*\n\s*")
SUBHEADING_MAX = 100
# What HTML forbids in a page (controls but whitespace, noncharacters): a page holding one does
# not parse cleanly, so it is reported where it is written. Word pastes U+000B for a line break.
NONCHARACTERS = "".join(chr(plane + 0xFFFE) + chr(plane + 0xFFFF) for plane in range(0, 0x110000, 0x10000))
NOT_TEXT = re.compile(f"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef{NONCHARACTERS}]")
# The same without the planes past the first: a class with them is twenty times slower to search,
# and text rarely holds a character past U+FFFF.
NOT_TEXT_BMP = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# The bytes of plain text: printable ASCII, line breaks (\r too: it becomes \n), tabs and form
# feeds. Deleting them from a file's bytes leaves nothing, in a tenth of str.isprintable's time.
PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\n\r\t\x0c"


def decode_text(path: str, data: bytes) -> tuple[str | None, list[Problem]]:
    """UTF-8 with an optional BOM, every line ending normalised to \\n, no character a page cannot hold."""
    sample = data[:200]  # UTF-16 without a BOM has a NUL beside every ASCII letter
    nuls = len(sample) >= 4 and sample.count(0) >= len(sample) / 3
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or nuls:
        hint = "re-save the file as UTF-8 (it looks like UTF-16)"
        return None, [Problem(Location(path, 1, 1), "file is UTF-16, not UTF-8", hint)]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start
        before = data[:offset]
        line = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", "replace")) + 1
        byte = data[offset : offset + 1].hex()
        message = f"invalid UTF-8 byte 0x{byte} at byte offset {offset}"
        return None, [Problem(Location(path, line, column), message, "re-save the file as UTF-8")]
    if "\r" in text:  # one quick scan for the usual text, which has none: replacing costs two
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii() and not data.translate(None, PLAIN_ASCII):
        return text, []  # nothing but printable ASCII and line breaks, tabs and form feeds
    found = (NOT_TEXT if not text.isascii() and ASTRAL.search(text) else NOT_TEXT_BMP).search(text)
    if found:
        code = ord(found[0])
        name = unicodedata.name(found[0], "a control character" if code < 0xA0 else "a noncharacter")
        message = f"U+{code:04X} ({name}) is not text: a web page cannot hold it"
        return None, [Problem(_location(path, text, found.start()), message,
                              "delete it (copying from a word processor or a PDF can leave such characters)")]
    return text, []


def slug_from_name(name: str) -> str:
    """`103_Port.txt` -> `103-port`."""
    stem = name[:-4] if name.lower().endswith(".txt") else name
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")


def parse_seed(path: str, data: bytes) -> tuple[Seed | None, list[Problem]]:
    name = path.rsplit("/", 1)[-1]
    text, problems = decode_text(path, data)
    if text is None:
        return None, problems
    offset = len(text) - len(text.lstrip())
    date = None
    token = DATE_TOKEN.match(text, offset)
    if token:
        year, month, day = (int(group) for group in token.groups())
        try:
            date = dt.date(year, month, day)
        except ValueError as error:
            where = _location(path, text, token.start(1))
            problems.append(Problem(where, f"impossible date {token[0][5:].strip()}: {error}",
                                    "write the date as YYYY-MM-DD, e.g. date 2023-06-21"))
        offset = token.end()
        while offset < len(text) and text[offset].isspace():
            offset += 1
    first = _location(path, text, offset)
    body = text[offset:]
    if not body.strip():
        problems.append(Problem(first, "the article has no text" + (" after its date" if token else ""),
                                "paste the article's text into the file"))
        return None, problems
    seed = Seed(path=path, name=name, date=date, text=body, blocks=split_blocks(body),
                first_line=first.line)
    return (None if problems else seed), problems


def split_blocks(text: str) -> tuple[Block, ...]:
    """Paragraphs are separated by blank lines; a short one-line question is a subheading."""
    blocks = []
    start = 0
    for separator in [*BLANK_LINES.finditer(text), None]:
        end = separator.start() if separator else len(text)
        chunk = text[start:end]
        stripped = chunk.strip()
        if stripped:
            lead = len(chunk) - len(chunk.lstrip())
            block_start = start + lead
            block_end = block_start + len(stripped)
            blocks.append(Block(_kind(stripped), block_start, block_end))
        if separator:
            start = separator.end()
    return tuple(blocks)


def _kind(paragraph: str) -> str:
    is_heading = "\n" not in paragraph and len(paragraph) <= SUBHEADING_MAX and paragraph.endswith("?")
    return "h2" if is_heading else "p"


def _location(path: str, text: str, offset: int) -> Location:
    line = text.count("\n", 0, offset) + 1
    return Location(path, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)

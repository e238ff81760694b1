"""The site's tags, read from an annotation file's bytes before anything else is parsed.

Pure and light: the process a build forks first thing (see ahead) reads annotations with it
before the rest of sitegen is imported.
"""

from __future__ import annotations

import re

# What a line scan can read as YAML would: a tag of plain words (no quote, bracket, comment,
# anchor, colon...), which YAML 1.1 takes for a string; the draft flag written true or false.
PLAIN_TAG = re.compile(r"[A-Za-z][A-Za-z0-9 .()+&-]*")
YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
FRONT_LINES = 64  # a longer front matter is left to the parse


def quick_front_tags(data: bytes) -> tuple[tuple[str, ...], bool] | None:
    """front_tags of an annotation file's bytes, from a scan of its front matter's lines (about
    a tenth of the YAML parse's cost), for knowing the site's tags before any article is parsed.
    None whenever the front matter is not of the plain kind the scan can read for certain (a
    `tags: [a, b]` line, a `draft: true|false` line, each at most once)."""
    head = data[: data.find(b"\n---", 3) + 5]  # to the closing line: the notes need no decoding
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\n", FRONT_LINES)  # the front matter's, and the rest in one piece
    if lines[0].rstrip() != "---":
        return None
    tags: tuple[str, ...] | None = None
    draft: bool | None = None
    for line in lines[1:]:
        line = line.rstrip()
        if line == "---":
            return tags or (), bool(draft)
        key, colon, value = line.partition(":")
        if not colon or key.strip() not in ("tags", "draft"):
            continue
        if key not in ("tags", "draft"):
            return None  # indented, or spaced before its colon
        value = value.strip()
        if key == "draft":
            if draft is not None or value not in ("true", "false"):
                return None
            draft = value == "true"
            continue
        if tags is not None or not (value.startswith("[") and value.endswith("]")):
            return None
        inside = value[1:-1].strip()
        items = [" ".join(item.split()) for item in inside.split(",")] if inside else []
        if not all(PLAIN_TAG.fullmatch(item) and item.lower() not in YAML_WORDS and ".." not in item
                   for item in items):  # a tag with '..' is refused: _clean_tags reports it
            return None
        tags = tuple(items)
    return None  # never closed

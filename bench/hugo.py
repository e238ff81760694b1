"""Convert a sitegen bench corpus into an equivalent minimal Hugo site, for timing Hugo alongside.

    python bench/hugo.py CORPUS_DIR OUT_DIR

`make_hugo_site(corpus_root, hugo_root)` writes, from a corpus made by `corpus.py`:

- `hugo.toml`: title, base URL, the `tags` taxonomy only, 50 posts per home-page page, and
  one feed (the home page's, 20 items), as sitegen writes: no feeds per section or tag;
- `content/posts/aNNNNN.md`, one per article: YAML front matter with title, date (the seed's
  date token), tags and summary from the annotation file; then the preface as an "Editor's note"
  paragraph, then the seed's paragraphs and subheadings (`## question`). Each note becomes a
  Markdown footnote: `[^n]` right after its quoted words, and `[^n]: ...` at the end holding the
  note's Markdown body (later paragraphs indented, so they stay inside the footnote);
- `content/posts/_index.md`: the posts section is not rendered itself (`_build: render: never`);
  sitegen has no page listing all articles at once, only the paginated home page;
- `content/context/ctx-K.md`: the corpus's context entries (sitegen renders them too);
- `layouts/`: a theme-less `_default/baseof.html`, `single.html`, `list.html` (the context
  section, the tag list and each tag's page) and `index.html` (the posts, newest first, paginated).

`[[ctx-K]]` citations become ordinary links to the context page, titled like sitegen's.
The output is deterministic. It is rebuilt only when missing or stale: `.hugo-site-stamp` records
this file's hash and the corpus's own `.corpus-stamp`; an existing OUT_DIR without that stamp is
refused unless empty, so nothing else gets deleted.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

import yaml

STAMP_FILE = ".hugo-site-stamp"
CORPUS_STAMP_FILE = ".corpus-stamp"  # as written by corpus.py
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

NOTE_HEADING = re.compile(r'^## "(.+)"[ \t]*$', re.MULTILINE)
CITATION = re.compile(r"\[\[([a-z0-9-]+)\]\]")
DATE_TOKEN = re.compile(r"\s*date[ \t]+(\d{4}-\d{2}-\d{2})\s+")
BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
BLOCK_OPENER = re.compile(r"#|[-+=]|\d+[.)]")
SUBHEADING_MAX = 100  # as sitegen's seeds.py: a short one-line question is a subheading

CONFIG = """\
baseURL = "https://bench.example.org/hugo/"
languageCode = "en"
title = {title}
paginate = 50
rssLimit = 20

[taxonomies]
  tag = "tags"

[outputs]
  home = ["HTML", "RSS"]
  section = ["HTML"]
  taxonomy = ["HTML"]
  term = ["HTML"]
"""

BASEOF = """\
<!DOCTYPE html>
<html lang="{{ site.LanguageCode }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if .IsHome }}{{ site.Title }}{{ else }}{{ .Title }} | {{ site.Title }}{{ end }}</title>
{{ with .Description }}<meta name="description" content="{{ . }}">{{ end }}
</head>
<body>
<header><a href="{{ site.Home.RelPermalink }}">{{ site.Title }}</a></header>
<main>
{{ block "main" . }}{{ end }}
</main>
</body>
</html>
"""

SINGLE = """\
{{ define "main" }}
<article>
  <h1>{{ .Title }}</h1>
  <p class="meta"><time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time>
  {{ range $i, $term := .GetTerms "tags" }}{{ if $i }}, {{ else }} · {{ end -}}
  <a href="{{ $term.RelPermalink }}">{{ $term.LinkTitle }}</a>{{ end }}</p>
  {{ .Content }}
</article>
{{ end }}
"""

ITEM = """\
  <li>
    <h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
    <p><time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time>
    {{ with .Params.tags }} · {{ delimit . ", " }}{{ end }}</p>
    <p>{{ .Summary }}</p>
  </li>
"""

LIST = """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>
{{ range .Pages }}
ITEM{{ end }}
</ul>
{{ end }}
""".replace("ITEM", ITEM)

INDEX = """\
{{ define "main" }}
<h1>{{ site.Title }}</h1>
{{ $paginator := .Paginate (site.GetPage "/posts").Pages }}
<ul>
{{ range $paginator.Pages }}
ITEM{{ end }}
</ul>
{{ template "_internal/pagination.html" . }}
{{ end }}
""".replace("ITEM", ITEM)

SECTION_POSTS = """\
---
title: "Posts"
_build:
  render: never
---
"""

LAYOUTS = {
    "_default/baseof.html": BASEOF,
    "_default/single.html": SINGLE,
    "_default/list.html": LIST,
    "index.html": INDEX,
}


class ConversionError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Reading the corpus
# --------------------------------------------------------------------------------------------


def split_front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    opener, _, rest = text.partition("---\n")
    front, separator, body = rest.partition("\n---\n")
    if opener or not separator:
        raise ConversionError(f"{path}: no YAML front matter between --- lines")
    return yaml.load(front, Loader=LOADER), body


def split_notes(path: Path, body: str) -> tuple[str, list[tuple[str, str]]]:
    """(preface, [(quote, note body), ...]) of an annotation file's body."""
    parts = NOTE_HEADING.split(body)
    preface, rest = parts[0].strip(), parts[1:]
    notes = [(rest[i], rest[i + 1].strip()) for i in range(0, len(rest), 2)]
    if not notes:
        raise ConversionError(f'{path}: no note headings (## "quote")')
    return preface, notes


def read_seed(path: Path) -> tuple[str, list[str]]:
    """(YYYY-MM-DD, blocks) of a seed: its date token and its blank-line-separated blocks."""
    text = path.read_text(encoding="utf-8")
    token = DATE_TOKEN.match(text)
    if not token:
        raise ConversionError(f"{path}: no `date YYYY-MM-DD` token at the start")
    blocks = [block.strip() for block in BLANK_LINES.split(text[token.end() :])]
    return token[1], [block for block in blocks if block]


# --------------------------------------------------------------------------------------------
# Writing Markdown
# --------------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Plain article text as Markdown that renders as the same words."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def block_safe(markdown: str) -> str:
    """Keep a paragraph a paragraph: escape a leading `#`, `-`, `+`, `=` or `1.` / `1)`."""
    opener = BLOCK_OPENER.match(markdown)
    if not opener:
        return markdown
    at = 0 if opener[0][0] in "#-+=" else len(opener[0]) - 1
    return markdown[:at] + "\\" + markdown[at:]


def is_subheading(block: str) -> bool:
    return "\n" not in block and len(block) <= SUBHEADING_MAX and block.endswith("?")


def link_citations(markdown: str, titles: dict[str, str], prefix: str) -> str:
    """`[[ctx-K]]` -> `[title](prefix ctx-K/)`; prefix leads from the page to content/context/."""
    def link(found: re.Match[str]) -> str:
        slug = found[1]
        title = titles.get(slug, slug)
        return f"[{escape(title)}]({prefix}{slug}/)"
    return CITATION.sub(link, markdown)


def footnote(number: int, markdown: str) -> str:
    """A footnote definition; its later paragraphs are indented so they belong to it."""
    first, *others = markdown.split("\n")
    lines = [f"[^{number}]: {first}"]
    lines += [f"    {line}" if line.strip() else "" for line in others]
    return "\n".join(lines)


def front_matter(fields: dict[str, object]) -> str:
    # JSON is valid YAML and quotes every string safely.
    lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in fields.items()]
    return "\n".join(["---", *lines, "---", ""])


def convert_article(annotation: Path, seeds: Path, titles: dict[str, str]) -> str:
    meta, body = split_front_matter(annotation)
    preface, notes = split_notes(annotation, body)
    date, blocks = read_seed(seeds / meta["seed"])

    # Place each footnote marker right after its quote; every quote occurs once in its seed.
    markers: dict[int, list[tuple[int, int]]] = {}  # block index -> [(end offset, note number)]
    for number, (quote, _) in enumerate(notes, start=1):
        places = [(index, block.find(quote)) for index, block in enumerate(blocks) if quote in block]
        if len(places) != 1 or blocks[places[0][0]].count(quote) != 1:
            raise ConversionError(f"{annotation}: quote {quote!r} is not found exactly once in its seed")
        index, start = places[0]
        markers.setdefault(index, []).append((start + len(quote), number))

    out = [front_matter({"title": meta["title"], "date": date, "tags": list(meta.get("tags") or []),
                         "summary": meta.get("summary", "")})]
    if preface:
        out += [f"**Editor's note.** {link_citations(preface, titles, '../../context/')}", ""]
    for index, block in enumerate(blocks):
        pieces, previous = [], 0
        for end, number in sorted(markers.get(index, [])):
            pieces += [escape(block[previous:end]), f"[^{number}]"]
            previous = end
        pieces.append(escape(block[previous:]))
        markdown = "".join(pieces)
        out += [f"## {markdown}" if is_subheading(block) else block_safe(markdown), ""]
    for number, (_, note) in enumerate(notes, start=1):
        out += [footnote(number, link_citations(note, titles, "../../context/")), ""]
    return "\n".join(out)


def convert_context(path: Path, titles: dict[str, str]) -> str:
    meta, body = split_front_matter(path)
    fields = {"title": meta["title"], "summary": meta.get("summary", "")}
    return front_matter(fields) + link_citations(body.strip(), titles, "../") + "\n"


# --------------------------------------------------------------------------------------------
# The site
# --------------------------------------------------------------------------------------------


def site_stamp(corpus_root: Path) -> str:
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    corpus_stamp = corpus_root / CORPUS_STAMP_FILE
    if not corpus_stamp.is_file():
        raise ConversionError(f"{corpus_root}: not a bench corpus (no {CORPUS_STAMP_FILE})")
    return f"sitegen-bench-hugo converter={source} {corpus_stamp.read_text(encoding='utf-8').strip()}\n"


def is_current(corpus_root: Path, hugo_root: Path) -> bool:
    stamp_file = hugo_root / STAMP_FILE
    return stamp_file.is_file() and stamp_file.read_text(encoding="utf-8") == site_stamp(corpus_root)


def make_hugo_site(corpus_root: Path, hugo_root: Path) -> bool:
    """Write the Hugo site for corpus_root into hugo_root unless it is current; True if written."""
    corpus_root, hugo_root = Path(corpus_root), Path(hugo_root)
    stamp = site_stamp(corpus_root)
    if is_current(corpus_root, hugo_root):
        return False
    if hugo_root.exists():
        if not (hugo_root / STAMP_FILE).is_file() and any(hugo_root.iterdir()):
            raise ConversionError(f"{hugo_root}: exists, is not empty and was not made by "
                                  f"bench/hugo.py (no {STAMP_FILE}); refusing to replace it")
        shutil.rmtree(hugo_root)

    source = corpus_root / "content"
    contexts = sorted((source / "context").glob("*.md"))
    titles = {path.stem: split_front_matter(path)[0]["title"] for path in contexts}
    config = (corpus_root / "sitegen.toml").read_text(encoding="utf-8")
    title = re.search(r"^title\s*=\s*(.+)$", config, re.MULTILINE)

    (hugo_root / "content" / "posts").mkdir(parents=True)
    (hugo_root / "content" / "context").mkdir()
    (hugo_root / "content" / "posts" / "_index.md").write_text(SECTION_POSTS, encoding="utf-8")
    (hugo_root / "hugo.toml").write_text(
        CONFIG.format(title=title[1].strip() if title else '"Benchmark corpus"'), encoding="utf-8")
    for name, text in LAYOUTS.items():
        path = hugo_root / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for path in contexts:
        (hugo_root / "content" / "context" / path.name).write_text(
            convert_context(path, titles), encoding="utf-8")
    for path in sorted(source.glob("*.md")):
        (hugo_root / "content" / "posts" / path.name).write_text(
            convert_article(path, corpus_root / "seeds", titles), encoding="utf-8")
    (hugo_root / STAMP_FILE).write_text(stamp, encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python bench/hugo.py CORPUS_DIR OUT_DIR", file=sys.stderr)
        return 2
    corpus_root, hugo_root = Path(argv[0]), Path(argv[1])
    try:
        written = make_hugo_site(corpus_root, hugo_root)
    except ConversionError as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    count = sum(1 for _ in (hugo_root / "content" / "posts").glob("[!_]*.md"))
    print(f"{'wrote' if written else 'up to date:'} Hugo site with {count:,} posts in {hugo_root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

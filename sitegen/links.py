"""Check a built site's internal links: each file and each #fragment they point to must exist.

Pure: takes the output (path -> bytes) and returns the broken links; it reads no disk, fetches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import NamedTuple
from urllib.parse import quote, unquote, urljoin, urlsplit

from .parallel import parallel_map

HTML_SUFFIXES = (".html", ".htm")
NOT_FOUND_PAGE = "404.html"  # hosts serve it at any depth, so its URLs start with the base path
ROOT_ABSOLUTE = "root-absolute link: breaks under a base path; use a relative URL"
ABOVE_BASE = "points outside the site (above the base path)"
TEXT_DIRECTIVE = ":~:"  # "#id:~:text=words": browsers look for the words, the id part is ours

URL_ATTRIBUTES = {  # element -> its attributes that hold URLs (srcset: a list of them)
    "a": ("href",), "link": ("href",), "area": ("href",),
    "img": ("src", "srcset"), "source": ("src", "srcset"),
    "script": ("src",), "iframe": ("src",), "audio": ("src",), "track": ("src",), "embed": ("src",),
    "video": ("src", "poster"),
    "object": ("data",),
}
SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
SRCSET_URL = re.compile(r"[\s,]*([^\s,]\S*)")


class BrokenLink(NamedTuple):
    page: str  # output path of the page holding the link, e.g. "a/index.html"
    href: str  # the link as written in the page (entities decoded)
    reason: str  # e.g. "no such file: a/missing/index.html"
    source: str = ""  # the source file that produced the page, when known

    def line(self, out_name: str = "public") -> str:
        """`public/PAGE.html: broken link "HREF"`, then ` (from SOURCE)` when source is known."""
        text = f'{out_name}/{self.page}: broken link "{self.href}"'
        return f"{text} (from {self.source})" if self.source else text


@dataclass
class Page:
    """What the checker needs of one HTML page: its URLs in order (each once), and its ids."""

    urls: dict[str, None] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = URL_ATTRIBUTES.get(tag, ())
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.page.ids.add(value)
            elif name in wanted:
                for url in srcset_urls(value) if name == "srcset" else (value,):
                    self.page.urls.setdefault(url)

    def updatepos(self, i: int, j: int) -> int:
        return j  # line numbers are never asked for: counting them was a fifth of the parse


def parse_page(data: bytes) -> Page:
    parser = PageParser()
    parser.feed(data.decode("utf-8", errors="replace"))
    parser.close()
    return parser.page


def srcset_urls(srcset: str) -> Iterator[str]:
    """Each candidate's URL, read as browsers do: a comma right after a URL ends its candidate."""
    position = 0
    while match := SRCSET_URL.match(srcset, position):
        url, position = match.group(1), match.end()
        if url.endswith(","):
            url = url.rstrip(",")
        else:  # skip the descriptors ("2x", "480w") up to the next candidate
            comma = srcset.find(",", position)
            position = len(srcset) if comma < 0 else comma + 1
        yield url


@dataclass(frozen=True)
class Targets:
    """What a link can point to: the site's files, and the fragments of its HTML pages."""

    files: Mapping[str, bytes]
    ids: dict[str, set[str]]  # HTML page -> the ids and <a name>s a fragment can point to
    base_path: str

    def problem(self, page: str, href: str) -> str:
        """Why `href` on `page` is broken, as the browser would resolve it; "" when it is not."""
        url = href.strip()
        if not url or url.startswith("//") or SCHEME.match(url):
            return ""  # external, or nothing to follow
        if url.startswith("/") and page != NOT_FOUND_PAGE:
            return ROOT_ABSOLUTE
        if url.startswith("#"):  # the most common link of all, and no need to resolve it
            return self.fragment_problem(page, url[1:])
        address, _, fragment = urljoin("http://site" + self.base_path + quote(page), url).partition("#")
        path = unquote(urlsplit(address).path)
        root = unquote(self.base_path)
        if not path.startswith(root):
            return ABOVE_BASE
        target = path[len(root) :]
        if not target or target.endswith("/"):
            target += "index.html"
        if target not in self.files:
            if target + "/index.html" not in self.files:
                return f"no such file: {target}"
            target += "/index.html"  # servers redirect a folder without its slash
        return self.fragment_problem(target, fragment)

    def fragment_problem(self, target: str, fragment: str) -> str:
        # "#" and "#top" scroll to the top of any page; fragments of other files are not ours to check
        fragment = fragment.partition(TEXT_DIRECTIVE)[0]
        if not fragment or fragment.lower() == "top" or target not in self.ids:
            return ""
        ids = self.ids[target]
        if fragment in ids or unquote(fragment) in ids:
            return ""
        return f"no id '{unquote(fragment)}' in {target}"


def check_links(files: Mapping[str, bytes], base_path: str = "/",
                sources: Mapping[str, str] | None = None, jobs: int = 1) -> list[BrokenLink]:
    """Every broken internal link of every HTML page, by page, then in the order they appear.

    base_path starts and ends with '/'; sources maps a page to the file it was made from. Pages
    are parsed across `jobs` processes (parsing is nearly all of the time)."""
    paths = [path for path in sorted(files) if path.endswith(HTML_SUFFIXES)]
    pages = dict(zip(paths, parallel_map(parse_page, [files[path] for path in paths], jobs), strict=True))
    targets = Targets(files, {path: page.ids for path, page in pages.items()}, base_path)
    sources = sources or {}
    broken = []
    for path, page in pages.items():
        for href in page.urls:
            if reason := targets.problem(path, href):
                broken.append(BrokenLink(path, href, reason, sources.get(path, "")))
    return broken

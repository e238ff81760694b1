"""Decide which pages exist, where they live and what each one shows; render them with the theme.

Pure: takes anchored articles, context entries and the config, returns path -> bytes.
Every internal URL is relative to the page that holds it (404.html excepted: hosts serve it at
any depth, so its URLs start with the base path).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .anchoring import selector_context, slugify
from .markdown import ContextLinks, pygments_css, render_markdown
from .memo import NO_MEMO, Memo, freeze
from .model import Article, Config, ContextEntry
from .parallel import parallel_imap
from .render import RenderedNote, render_notes, render_text
from .theme import Theme

PAGE_SIZE = 50
FEED_SIZE = 20
ASSETS = ("style.css", "site.js", "favicon.svg")


@dataclass(frozen=True, slots=True)
class Tag:
    slug: str
    name: str
    articles: tuple[Article, ...]


@dataclass(frozen=True, slots=True)
class NoteRef:
    number: int
    id: str
    quote: str


@dataclass(frozen=True, slots=True)
class Citation:
    article: Article
    note: NoteRef | None  # None: cited from the preface


Sink = Callable[[str, bytes], None]


@dataclass
class Pages:
    """The output as it is produced: kept as path -> bytes, or handed to a sink at once."""

    sink: Sink | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    paths: set[str] = field(default_factory=set)

    def add(self, path: str, content: str | bytes) -> None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        self.paths.add(path)
        if self.sink:
            self.sink(path, data)
        else:
            self.files[path] = data


def root_of(path: str) -> str:
    """The relative prefix from the page at `path` back to the site's root."""
    return "../" * path.count("/")


def sort_newest_first(articles: Iterable[Article]) -> list[Article]:
    dated = sorted((a for a in articles if a.date), key=lambda a: (-a.date.toordinal(), a.slug))
    undated = sorted((a for a in articles if not a.date), key=lambda a: a.slug)
    return dated + undated


def group_tags(articles: list[Article]) -> list[Tag]:
    """Tags that differ only in case or spacing are one tag, named by its most used spelling."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    members: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        for slug in dict.fromkeys(slugify(tag) for tag in article.tags):
            members[slug].append(article)
        for tag in article.tags:
            spellings[slugify(tag)][tag] += 1
    tags = []
    for slug in sorted(members):
        name = min(spellings[slug].items(), key=lambda item: (-item[1], item[0]))[0]
        tags.append(Tag(slug, name, tuple(members[slug])))
    return tags


@dataclass(frozen=True)
class Shared:
    """What every article page needs from the whole site, decided before any page is rendered."""

    config: Config
    theme: Theme
    contexts: dict[str, ContextEntry]
    titles: dict[str, str]
    tag_names: dict[str, str]
    site: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RenderedArticle:
    files: tuple[tuple[str, bytes], ...]  # empty once handed to a sink
    body: str
    notes: tuple[NoteRef, ...]


def render_article(shared: Shared, article: Article) -> RenderedArticle:
    """An article's page and annotations.json: a pure function of the article and the site."""
    path = f"{article.slug}/index.html"
    links = ContextLinks(shared.titles, root_of(path) + "context/")
    notes = render_notes(article, shared.contexts, links)
    body = render_text(article)
    preface = article.annotation.preface if article.annotation else ""
    cited = [shared.contexts[slug] for slug in _cited_slugs(article) if slug in shared.contexts]
    page = shared.theme.render("article.html", path, shared.site, {
        "article": article,
        "summary": article.summary,
        "tags": [(slugify(tag), shared.tag_names[slugify(tag)]) for tag in article.tags],
        "preface": render_markdown(preface, links),
        "body": body,
        "notes": notes,
        "cited": cited,
        "url": shared.config.base_url + f"{article.slug}/",
    })
    annotations = web_annotations(article, notes, shared.config)
    files = ((path, page.encode()), (f"{article.slug}/annotations.json", annotations.encode()))
    return RenderedArticle(files, body, tuple(NoteRef(n.number, n.id, n.quote) for n in notes))


def _produce(shared: Shared, sink: Sink | None, memo: Memo, shared_key: Hashable,
             article: Article) -> RenderedArticle:
    """Runs in a worker: with a sink the pages are written there, and only notes travel back."""
    rendered = memo.get("article", (shared_key, article), partial(render_article, shared, article))
    if sink is None:
        return rendered
    for path, data in rendered.files:
        sink(path, data)
    return RenderedArticle((), rendered.body, rendered.notes)


class MemoTheme:
    """The theme, with each page reused while its template data is unchanged."""

    def __init__(self, theme: Theme, memo: Memo, site: dict[str, Any]) -> None:
        self.theme = theme
        self.memo = memo
        self.site_key = freeze(site)  # the same for every page of one build

    def render(self, name: str, path: str, site: dict[str, Any], data: dict[str, Any],
               root: str | None = None) -> str:
        key = (id(self.theme), name, path, self.site_key, freeze(data), root)
        return self.memo.get("page", key, partial(self.theme.render, name, path, site, data, root))

    def asset(self, name: str) -> bytes:
        return self.theme.asset(name)


def build_site(articles: list[Article], contexts: dict[str, ContextEntry], config: Config,
               theme: Theme, static: dict[str, bytes], jobs: int = 1,
               sink: Sink | None = None, memo: Memo = NO_MEMO) -> dict[str, bytes]:
    """Every page of the site; with a sink, each is handed over as soon as it is rendered."""
    pages = Pages(sink)
    ordered = sort_newest_first(articles)
    tags = group_tags(ordered)
    titles = {slug: entry.title for slug, entry in contexts.items()}
    site = {"config": config, "contexts": len(contexts), "tags": len(tags)}
    shared = Shared(config, theme, contexts, titles, {tag.slug: tag.name for tag in tags}, site)
    shared_key: Hashable = None
    if memo is not NO_MEMO:
        # id(theme) is a fair key: while the templates are unchanged the memo hands back one
        # theme. The rest is digested once here, so that comparing keys costs nothing per article.
        everything_shared = repr((config, sorted(contexts.items()), shared.tag_names, site))
        shared_key = (id(theme), hashlib.blake2b(everything_shared.encode(), digest_size=16).digest())
        theme = MemoTheme(theme, memo, site)  # type: ignore[assignment]
    render_one = partial(_produce, shared, sink, memo, shared_key)

    citations: dict[str, list[Citation]] = defaultdict(list)
    feed_bodies = {}
    rendered = parallel_imap(render_one, ordered, jobs)
    for position, (article, result) in enumerate(zip(ordered, rendered, strict=True)):
        for path, data in result.files:
            pages.add(path, data)
        pages.paths.update((f"{article.slug}/index.html", f"{article.slug}/annotations.json"))
        if position < FEED_SIZE:
            feed_bodies[article.slug] = result.body
        anchors = sorted(article.anchors, key=lambda a: a.number)
        for note, anchor in zip(result.notes, anchors, strict=True):
            for slug in dict.fromkeys(ref.slug for ref in anchor.note.refs):
                citations[slug].append(Citation(article, note))
        if article.annotation:
            for slug in dict.fromkeys(ref.slug for ref in article.annotation.preface_refs):
                citations[slug].append(Citation(article, None))

    for number, chunk in enumerate(_chunks(ordered, PAGE_SIZE), start=1):
        path = "index.html" if number == 1 else f"page/{number}/index.html"
        total = max(1, -(-len(ordered) // PAGE_SIZE))
        pages.add(path, theme.render("index.html", path, site, {
            "articles": chunk, "number": number, "total": total,
            "newer": _page_path(number - 1) if number > 1 else None,
            "older": _page_path(number + 1) if number < total else None,
        }))

    context_list = sorted(contexts.values(), key=lambda entry: entry.title.lower())
    pages.add("context/index.html", theme.render("context_index.html", "context/index.html", site, {
        "entries": [(entry, len(citations[entry.slug])) for entry in context_list]}))
    for entry in context_list:
        path = f"context/{entry.slug}/index.html"
        links = ContextLinks(titles, "../")
        pages.add(path, theme.render("context.html", path, site, {
            "entry": entry, "body": render_markdown(entry.body, links),
            "citations": citations[entry.slug]}))

    pages.add("tags/index.html", theme.render("tags.html", "tags/index.html", site, {"tags": tags}))
    for tag in tags:
        path = f"tags/{tag.slug}/index.html"
        pages.add(path, theme.render("tag.html", path, site, {"tag": tag}))

    pages.add("404.html", theme.render("404.html", "404.html", site, {}, root=config.base_path))
    newest = ordered[:FEED_SIZE]
    pages.add("feed.xml", theme.render("feed.xml", "feed.xml", site, {
        "entries": [(a, feed_bodies[a.slug]) for a in newest],
        "updated": _timestamp(next((a.date for a in ordered if a.date), None)),
        "timestamp": _timestamp}))
    pages.add("sitemap.xml", theme.render("sitemap.xml", "sitemap.xml", site, {
        "urls": _sitemap_urls(ordered, context_list, tags, config)}))
    pages.add(".nojekyll", b"")
    defaults = {f"assets/{asset}": theme.asset(asset) for asset in ASSETS}
    defaults["assets/pygments.css"] = pygments_css().encode()
    for path, content in sorted({**defaults, **static}.items()):  # a site's static/ wins over
        if path not in pages.paths:  # the theme's assets, but never over a page of the site
            pages.add(path, content)
    return pages.files


def _cited_slugs(article: Article) -> list[str]:
    refs = [ref.slug for anchor in article.anchors for ref in anchor.note.refs]
    if article.annotation:
        refs += [ref.slug for ref in article.annotation.preface_refs]
    return list(dict.fromkeys(refs))


def _chunks(items: list[Article], size: int) -> Iterable[list[Article]]:
    if not items:
        yield []
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _page_path(number: int) -> str:
    return "index.html" if number == 1 else f"page/{number}/index.html"


def _timestamp(date: dt.date | None) -> str:
    return f"{(date or dt.date(1970, 1, 1)).isoformat()}T00:00:00Z"


def _sitemap_urls(articles: list[Article], entries: list[ContextEntry], tags: list[Tag],
                  config: Config) -> list[tuple[str, str]]:
    base = config.base_url
    urls = [(base, "")]
    urls += [(f"{base}{a.slug}/", a.date.isoformat() if a.date else "") for a in articles]
    urls += [(f"{base}context/", "")] + [(f"{base}context/{e.slug}/", "") for e in entries]
    urls += [(f"{base}tags/", "")] + [(f"{base}tags/{t.slug}/", "") for t in tags]
    return urls


def web_annotations(article: Article, notes: list[RenderedNote], config: Config) -> str:
    """The notes in the W3C Web Annotation Data Model, as an AnnotationPage."""
    page_url = f"{config.base_url}{article.slug}/"
    annotation = article.annotation
    items: list[dict[str, Any]] = []
    anchors = sorted(article.anchors, key=lambda a: a.number)
    for note, anchor in zip(notes, anchors, strict=True):
        prefix, suffix = selector_context(article.seed, anchor.start, anchor.end)
        item: dict[str, Any] = {
            "id": f"{page_url}#{anchor.id}",
            "type": "Annotation",
            "motivation": "commenting",
            "body": {"type": "TextualBody", "value": note.html, "format": "text/html",
                     "language": config.language},
            "target": {
                "source": page_url,
                "selector": [
                    {"type": "TextQuoteSelector", "exact": note.quote,
                     "prefix": prefix, "suffix": suffix},
                    {"type": "TextPositionSelector", "start": anchor.start, "end": anchor.end},
                ],
            },
        }
        if annotation and annotation.annotator:
            item["creator"] = {"type": "Person", "name": annotation.annotator}
        items.append(item)
    document = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": f"{page_url}annotations.json",
        "type": "AnnotationPage",
        "label": article.title,
        "items": items,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"

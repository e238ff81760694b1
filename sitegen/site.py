"""Decide which pages exist, where they live and what each one shows; render them with the theme.

Pure: takes anchored articles, context entries and the config, returns path -> bytes.
Every internal URL is relative to the page that holds it (404.html excepted: hosts serve it at
any depth, so its URLs start with the base path).
"""

from __future__ import annotations

import datetime as dt
import json
from bisect import insort
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from contextlib import closing
from functools import partial
from typing import Any, NamedTuple, Protocol

from .anchoring import selector_context, slugify
from .markdown import ContextLinks, render_markdown
from .memo import NO_MEMO, Memo, freeze
from .model import Article, Config, ContextEntry, ContextRef, Listing
from .parallel import parallel_imap
from .progress import NO_PROGRESS, Progress
from .render import RenderedNote, render_endnotes, render_notes, render_sidenotes, render_text
from .theme import Theme, highlight_css

# A str as compact JSON writes it (json.dumps with ensure_ascii off, separators "," and ":"): the
# JSON files and the JSON-LD are written as text around each string's JSON.
json_string = json.encoder.encode_basestring
PAGE_SIZE = 50
LONG_PAGES = frozenset({"sitemap.xml", "context.html"})  # their length grows with the site's
FEED_SIZE = 20
# The lists' pages go to worker processes only for a site this large: below it, forking them and
# handing the pages out costs as much as it saves (1,000 articles, alternating builds: 512 ms that
# way, 510 ms here; 70 against 52 ms for the lists alone when Jinja wrote them).
PARALLEL_LISTS_FROM = 4000
ASSETS = ("style.css", "site.js", "favicon.svg")


class Tag(NamedTuple):
    """A tag and its articles (how many: len(articles); `count` is the tuple's own method)."""

    slug: str
    name: str
    articles: tuple[Listing, ...]


class TagCount(NamedTuple):
    """A tag as the tag index shows it, so that the index changes only when this does."""

    slug: str
    name: str
    count: int


class NoteRef(NamedTuple):
    number: int
    id: str
    quote: str


class Citation(NamedTuple):
    article: Listing
    note: NoteRef | None  # None: cited from the preface


Sink = Callable[[str, bytes], Any]  # what it returns for a page is kept in Pages.written


class Reuse(Protocol):
    """What a previous build left that this one may keep instead of rendering (see incremental).

    An article or a page is kept only when the key of everything it was made from is the same,
    and its file is still there as written."""

    def keep_article(self, article: Any, shared: bytes) -> RenderedArticle | None: ...
    def rendered_early(self, article: Any, shared: bytes) -> RenderedArticle | None: ...
    def keep_page(self, path: str, key: bytes) -> Any: ...
    def page_key(self, name: str, path: str, data: Any) -> bytes: ...
    def materialize(self, article: Any) -> Article: ...
    def feed_article(self, article: Any) -> FeedArticle | None: ...


class FeedArticle(NamedTuple):
    """What the default feed shows of an article, beside its text: enough to write its entry
    without parsing and anchoring it again (see _feed_articles)."""

    slug: str
    title: str
    date: dt.date | None
    summary: str
    tags: tuple[str, ...]
    annotator: str


class Kept:
    """A page left as the previous build wrote it; what keeping it returned is in `written`."""

    def __init__(self, written: Any) -> None:
        self.written = written


class Deferred(NamedTuple):
    """A page ReuseTheme leaves to render later, with the others, across the worker processes
    (see Pages.render_deferred)."""

    name: str
    path: str
    data: dict[str, Any]
    root: str | None


class Pages:
    """The output as it is produced: kept as path -> bytes, or handed to a sink at once (or, for
    Deferred pages, when render_deferred renders them together)."""

    def __init__(self, sink: Sink | None = None) -> None:
        self.sink = sink
        self.files: dict[str, bytes] = {}
        self.paths: set[str] = set()
        self.written: dict[str, Any] = {}  # path -> what the sink returned
        self.deferred: list[Deferred] = []

    def add(self, path: str, content: str | bytes | Kept | Deferred) -> None:
        self.paths.add(path)
        if isinstance(content, Kept):
            self.written[path] = content.written
            return
        if isinstance(content, Deferred):
            self.deferred.append(content)
            return
        data = content.encode("utf-8") if isinstance(content, str) else content
        if self.sink:
            self.written[path] = self.sink(path, data)
        else:
            self.files[path] = data

    def render_deferred(self, theme: Theme | MemoTheme, site: dict[str, Any], jobs: int) -> None:
        """Render the Deferred pages across `jobs` processes, each writing its pages through the
        sink; what writing returned travels back."""
        if not self.deferred:
            return
        assert self.sink is not None
        # The long pages first (the sitemap lists every page, a context entry's every citation),
        # so that no worker is left rendering one while the others have nothing to do.
        pages = sorted(self.deferred, key=lambda page: page.name not in LONG_PAGES)
        rendered = parallel_imap(partial(_render_deferred, theme, site, self.sink), pages, jobs)
        for page, written in zip(pages, rendered, strict=True):
            self.written[page.path] = written
        self.deferred = []


def root_of(path: str) -> str:
    """The relative prefix from the page at `path` back to the site's root."""
    return "../" * path.count("/")


def newest_rank(date: dt.date | None, slug: str) -> tuple[int, int, str]:
    """Where an article stands in the site's order, newest first: dated articles by date,
    then the undated; by slug on the same date."""
    return (0, -date.toordinal(), slug) if date else (1, 0, slug)


def among_newest(newest: list[tuple[Any, ...]], rank: tuple[Any, ...], size: int = FEED_SIZE) -> bool:
    """Whether an article of this rank is among the `size` newest seen so far, with `newest`
    (their ranks, sorted) brought up to date. However articles are shared out and in whatever
    order each share is seen, the newest `size` of all are among those it said so of."""
    if len(newest) >= size and rank >= newest[-1]:
        return False
    insort(newest, rank)
    del newest[size:]
    return True


def sort_newest_first(articles: Iterable[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: newest_rank(a.date, a.slug))


def group_tags(articles: Iterable[Listing]) -> list[Tag]:
    """Tags that differ only in case or spacing are one tag, named by its most used spelling."""
    counts: dict[tuple[str, str], int] = {}  # (slug, spelling) -> the articles spelling it so
    members: dict[str, list[Listing]] = {}
    slugs: dict[str, str] = {}  # a site has few tags, each on many articles: each made once
    for article in articles:
        for tag in article.tags:
            slug = slugs.get(tag) or slugs.setdefault(tag, slugify(tag))
            counts[slug, tag] = counts.get((slug, tag), 0) + 1
            group = members.get(slug)
            if group is None:
                members[slug] = [article]
            elif group[-1] is not article:  # two of its tags may be one: it is listed once
                group.append(article)
    spellings: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for (slug, tag), count in counts.items():
        spellings[slug].append((-count, tag))
    return [Tag(slug, min(spellings[slug])[1], tuple(members[slug])) for slug in sorted(members)]


class Shared(NamedTuple):
    """What every article page needs from the whole site, decided before any page is rendered."""

    config: Config
    theme: Theme
    contexts: dict[str, ContextEntry]
    titles: dict[str, str]
    tag_names: dict[str, str]
    site: dict[str, Any]


class RenderedArticle(NamedTuple):
    files: tuple[tuple[str, bytes], ...]  # empty once handed to a sink
    body: str | None  # None: kept from the previous build, not rendered
    cites: tuple[tuple[str, Citation], ...]  # (context slug, citation), in note order
    written: tuple[tuple[str, Any], ...] = ()  # path and what the sink returned for it


def render_article(shared: Shared, article: Article) -> RenderedArticle:
    """An article's page and annotations.json: a pure function of the article and the site."""
    return render_articles(shared, [article])[0]


def render_articles(shared: Shared, articles: list[Article]) -> list[RenderedArticle]:
    """render_article for each article, a stage at a time for them all (their notes, then their
    texts, then their pages...): each stage's code and data stay in the processor's caches,
    which took a 1,000-article build's workers 3% less time than rendering each whole in turn."""
    links = ContextLinks(shared.titles, "../context/")  # an article's page is one folder down
    config, contexts = shared.config, shared.contexts
    notes = [render_notes(article, contexts, links) for article in articles]
    bodies = [render_text(article) for article in articles]
    sidenotes = [render_sidenotes(each) for each in notes]
    endnotes = [render_endnotes(each) for each in notes]
    cited = [[contexts[slug] for slug in _cited_slugs(article) if slug in contexts] for article in articles]
    pages = []
    for article, body, each, side, end, entries in zip(articles, bodies, notes, sidenotes, endnotes, cited,
                                                       strict=True):
        preface = article.annotation.preface if article.annotation else ""
        pages.append(shared.theme.render_page("article.html", f"{article.slug}/index.html", shared.site, {
            "article": article,
            "summary": article.summary,
            "tags": [(slug, shared.tag_names[slug]) for slug in map(slugify, article.tags)],
            "preface": render_markdown(preface, links),
            "body": body,
            "notes": each,
            "sidenotes": side,
            "endnotes": end,
            "cited": entries,
            "url": f"{config.base_url}{article.slug}/",
            "json_ld": news_article_json_ld(article, entries, config),
        }))
    annotations = [web_annotations(article, each, config).encode()
                   for article, each in zip(articles, notes, strict=True)]
    rendered = []
    for article, page, data, body, each in zip(articles, pages, annotations, bodies, notes, strict=True):
        files = ((f"{article.slug}/index.html", page), (f"{article.slug}/annotations.json", data))
        rendered.append(RenderedArticle(files, body, _cites(article, each)))
    return rendered


def _cites(article: Article, notes: list[RenderedNote]) -> tuple[tuple[str, Citation], ...]:
    """Each context entry the article cites, once per citing note, in note order."""
    cites: list[tuple[str, Citation]] = []
    listing = article.listing  # made when asked: once here
    anchors = sorted(article.anchors, key=lambda a: a.number)
    for note, anchor in zip(notes, anchors, strict=True):
        if anchor.note.refs:
            citation = Citation(listing, NoteRef(note.number, note.id, note.quote))
            cites += [(slug, citation) for slug in _unique_slugs(anchor.note.refs)]
    if article.annotation:
        preface = Citation(listing, None)
        cites += [(slug, preface) for slug in _unique_slugs(article.annotation.preface_refs)]
    return tuple(cites)


def _produce(shared: Shared, sink: Sink | None, memo: Memo, shared_key: Hashable,
             article: Article) -> RenderedArticle:
    """Runs in a worker: with a sink the pages are written there, and only notes travel back."""
    rendered = memo.get("article", (shared_key, article), partial(render_article, shared, article))
    if sink is None:
        return rendered
    written = tuple((path, sink(path, data)) for path, data in rendered.files)
    return RenderedArticle((), rendered.body, rendered.cites, written)


def _produce_anew(reuse: Reuse, produce: Callable[[Article], RenderedArticle],
                  article: Any) -> RenderedArticle:
    """Runs in a worker: an article the previous build's output cannot serve is rendered."""
    return produce(reuse.materialize(article))


class ReuseTheme:
    """The theme, with each page kept from the previous build while its template data is the same."""

    def __init__(self, theme: Theme | MemoTheme, reuse: Reuse, shared: bytes, defer: bool = False) -> None:
        self.theme = theme
        self.reuse = reuse
        self.shared = shared
        self.defer = defer  # pages to render are returned as Deferred, to be rendered together
        self.rendered: dict[str, bytes] = {}  # path -> key, for pages rendered anew

    def render_page(self, name: str, path: str, site: dict[str, Any], data: dict[str, Any],
                    root: str | None = None, key: Any = None) -> bytes | Kept | Deferred:
        """`key`, when given, stands for data: anything data is a function of (with `shared`)."""
        key = self.reuse.page_key(name, path, (self.shared, data if key is None else key, root))
        kept = self.reuse.keep_page(path, key)
        if kept is not None:
            return Kept(kept)
        self.rendered[path] = key
        if self.defer:
            return Deferred(name, path, data, root)
        return self.theme.render_page(name, path, site, data, root)

    def asset(self, name: str) -> bytes:
        return self.theme.asset(name)


class MemoTheme:
    """The theme, with each page reused while its template data is unchanged."""

    def __init__(self, theme: Theme, memo: Memo, site: dict[str, Any]) -> None:
        self.theme = theme
        self.memo = memo
        self.site_key = freeze(site)  # the same for every page of one build

    def render_page(self, name: str, path: str, site: dict[str, Any], data: dict[str, Any],
                    root: str | None = None, key: Any = None) -> bytes:
        key = (id(self.theme), name, path, self.site_key, freeze(data), root)
        return self.memo.get("page", key, partial(self.theme.render_page, name, path, site, data, root))

    def asset(self, name: str) -> bytes:
        return self.theme.asset(name)


class Frame(NamedTuple):
    """What an article's pages need from the rest of the site, so that one article can be
    rendered again on its own (see rerender_article)."""

    shared: Shared
    cites: dict[str, tuple[tuple[str, Citation], ...]]  # article slug -> what it cites
    feed: tuple[Article, ...]  # the feed's articles
    bodies: dict[str, str | None]  # their rendered texts, by slug


class Built(NamedTuple):
    """What build_site made: the files (unless a sink took them) and what reuse needs to know."""

    files: dict[str, bytes]
    written: dict[str, Any]  # path -> what the sink returned for it (kept pages included)
    rendered: list[tuple[str, bytes, tuple[tuple[str, Citation], ...]]]  # the articles rendered
    # anew: slug, fingerprint and citations (not their pages: a large site is never held whole)
    pages: dict[str, bytes]  # path -> key of the pages rendered anew (with reuse only)
    shared: bytes  # the digest of what every article page shares (with reuse only)
    kept: int  # articles kept from the previous build
    frame: Frame | None = None  # without reuse: for rendering one article again
    outline: Outline | None = None  # with reuse: for rendering some articles again


class Outline(NamedTuple):
    """What article pages and the feed take from the whole site, beside the config, templates
    and context entries: while it is the same, an article can be rendered again on its own."""

    tag_names: tuple[tuple[str, str], ...]  # tag slug -> its name, as articles show their tags
    newest: tuple[str, ...]  # the slugs of the feed's articles


def shared_of(config: Config, theme: Theme, contexts: dict[str, ContextEntry],
              tag_names: dict[str, str]) -> Shared:
    titles = {slug: entry.title for slug, entry in contexts.items()}
    site = {"config": config, "contexts": len(contexts), "tags": len(tag_names)}
    return Shared(config, theme, contexts, titles, tag_names, site)


def shared_digest_of(reuse: Reuse, site_key: bytes, shared: Shared) -> bytes:
    """The digest of what every article page shares: the site-wide inputs, the tags' names and
    the site's data."""
    return reuse.page_key("", "", (site_key, tuple(shared.tag_names.items()), freeze(shared.site)))


def tag_names(tags: Iterable[Tag]) -> dict[str, str]:
    return {tag.slug: tag.name for tag in tags}


def _feed_time(newest: Iterable[Any]) -> str:
    """The feed's time stamp: the newest article's date (dated articles come first)."""
    return _timestamp(next((a.date for a in newest if a.date), None))


def _feed_articles(reuse: Reuse, shared: Shared, newest: list[Any]) -> list[Any]:
    """The feed's articles: for the default feed, what the workers sent of those they rendered
    (with their texts, which build_site_reusing keeps); the others parsed and anchored again."""
    if not shared.theme.without_jinja("feed.xml"):  # a site's own template sees whole Articles
        return [reuse.materialize(article) for article in newest]
    return [reuse.feed_article(article) or reuse.materialize(article) for article in newest]


def feed_key(reuse: Reuse, shared: bytes, newest: list[Any]) -> bytes:
    """The key of the feed's data: its articles stand for themselves by their fingerprints."""
    return reuse.page_key("feed.xml", "feed.xml",
                          (shared, tuple(a.fingerprint for a in newest), _feed_time(newest)))


def render_feed(theme: Theme | MemoTheme, site: dict[str, Any], newest: list[Article],
                bodies: dict[str, str | None]) -> bytes:
    """The feed of the newest articles, with their texts (rendered here where not given)."""
    entries = tuple((a, bodies.get(a.slug) or render_text(a)) for a in newest)
    return theme.render_page("feed.xml", "feed.xml", site,
                             {"entries": entries, "updated": _feed_time(newest), "timestamp": _timestamp})


def rerender_article(frame: Frame, old: Article, article: Article) -> tuple[dict[str, bytes], Frame] | None:
    """The files that change when `article` takes the place of `old`, and the frame after it;
    None when the change reaches other pages than the article's own and the feed.

    List pages, tag pages and the sitemap show an article's listing, and context entries show
    its citations: while both are the same, only its pages (and the feed's entry) change."""
    if article.listing != old.listing or old.slug not in frame.cites:
        return None
    rendered = render_article(frame.shared, article)
    if rendered.cites != frame.cites[old.slug] or rendered.body is None:
        return None
    files = dict(rendered.files)
    feed, bodies = frame.feed, frame.bodies
    if any(entry.slug == article.slug for entry in feed):
        feed = tuple(article if entry.slug == article.slug else entry for entry in feed)
        bodies = {**bodies, article.slug: rendered.body}
        files["feed.xml"] = render_feed(frame.shared.theme, frame.shared.site, list(feed), bodies)
    return files, frame._replace(feed=feed, bodies=bodies)


def build_site(articles: list[Article], contexts: dict[str, ContextEntry], config: Config,
               theme: Theme, static: dict[str, bytes], jobs: int = 1,
               sink: Sink | None = None, memo: Memo = NO_MEMO) -> dict[str, bytes]:
    """Every page of the site; with a sink, each is handed over as soon as it is rendered."""
    return build_site_reusing(articles, contexts, config, theme, static, jobs, sink, memo).files


def build_site_reusing(articles: list[Any], contexts: dict[str, ContextEntry], config: Config,
                       theme: Theme, static: dict[str, bytes], jobs: int = 1,
                       sink: Sink | None = None, memo: Memo = NO_MEMO,
                       reuse: Reuse | None = None, site_key: bytes = b"",
                       progress: Progress = NO_PROGRESS) -> Built:
    """build_site, keeping what `reuse` says the previous build left intact.

    With reuse, `articles` may hold stand-ins that reuse can materialize into Articles, and
    site_key is the digest of every site-wide input (config, templates, context entries)."""
    pages = Pages(sink)
    ordered = sort_newest_first(articles)
    listings = tuple([article.listing for article in ordered])
    tags = memo.get("tags", listings, partial(group_tags, listings))
    shared = shared_of(config, theme, contexts, tag_names(tags))
    titles, site = shared.titles, shared.site
    shared_key: Hashable = None
    if memo is not NO_MEMO:
        # A token that stays the same object while everything an article page shares with the
        # site does, so that the articles' memo keys compare in no time. id(theme) is a fair
        # part of it: while the templates are unchanged the memo hands back one theme.
        everything_shared = (id(theme), config, tuple(sorted(contexts.items())),
                             tuple(shared.tag_names.items()), freeze(site))
        shared_key = memo.get("shared", everything_shared, object)
        theme = MemoTheme(theme, memo, site)  # type: ignore[assignment]
    render_one = partial(_produce, shared, sink, memo, shared_key)

    shared_digest = b""
    kept: dict[int, RenderedArticle] = {}
    early: dict[int, RenderedArticle] = {}  # rendered while they were anchored, with this shared
    if reuse is not None:
        shared_digest = shared_digest_of(reuse, site_key, shared)
        render_one = partial(_produce_anew, reuse, render_one)
        for position, article in enumerate(ordered):
            if (result := reuse.rendered_early(article, shared_digest)) is not None:
                early[position] = result
            elif (result := reuse.keep_article(article, shared_digest)) is not None:
                kept[position] = result
        # With a sink and workers, the lists' pages are rendered together across the workers.
        defer = sink is not None and jobs > 1 and len(ordered) >= PARALLEL_LISTS_FROM
        theme = ReuseTheme(theme, reuse, shared_digest, defer=defer)  # type: ignore[assignment]
    done = kept.keys() | early.keys()
    todo = [article for position, article in enumerate(ordered) if position not in done]

    citations: dict[str, list[Citation]] = defaultdict(list)
    cites: dict[str, tuple[tuple[str, Citation], ...]] = {}
    feed_bodies: dict[str, str | None] = {}
    anew: list[tuple[str, bytes, tuple[tuple[str, Citation], ...]]] = []
    progress.start("render", len(ordered))
    # Closed however the loop ends, so that an interrupted build leaves no worker behind.
    with closing(parallel_imap(render_one, todo, jobs)) as rendered:
        for position, article in enumerate(ordered):
            progress.advance()
            result = kept.get(position) or early.get(position) or next(rendered)
            if position not in kept:
                anew.append((article.slug, article.fingerprint, result.cites))
            if result.files:
                for path, data in result.files:
                    pages.add(path, data)
            else:
                pages.paths.update((f"{article.slug}/index.html", f"{article.slug}/annotations.json"))
                pages.written.update(result.written)
            if position < FEED_SIZE:
                feed_bodies[article.slug] = result.body
            cites[article.slug] = result.cites
            for slug, citation in result.cites:
                citations[slug].append(citation)

    # Keys for reuse: a list of articles stands for them by their fingerprints, in order.
    fingerprints = {article.slug: article.fingerprint for article in ordered} if reuse else {}

    def made_from(listings: Iterable[Listing]) -> bytes:
        return b"".join(fingerprints[listing.slug] for listing in listings) if reuse else b""

    def page_of(data: dict[str, Any]) -> tuple[Any, ...]:
        return data["number"], data["total"], data["newer"], data["older"], made_from(data["articles"])

    for path, data in _paginate("", listings):
        pages.add(path, theme.render_page("index.html", path, site, data, key=page_of(data)))

    context_list = sorted(contexts.values(), key=lambda entry: entry.title.lower())
    counted = tuple((entry, len(citations[entry.slug])) for entry in context_list)
    pages.add("context/index.html", theme.render_page("context_index.html", "context/index.html", site, {
        "entries": counted}, key=tuple((entry.slug, count) for entry, count in counted)))
    titles_key = tuple(titles.items())
    for entry in context_list:
        path = f"context/{entry.slug}/index.html"
        body = memo.get("entry body", (entry.body, titles_key),
                        partial(render_markdown, entry.body, ContextLinks(titles, "../")))
        cited_by = tuple(citations[entry.slug])
        pages.add(path, theme.render_page("context.html", path, site, {
            "entry": entry, "body": body, "citations": cited_by},
            key=(entry.slug, made_from(citation.article for citation in cited_by))))

    counts = tuple(TagCount(tag.slug, tag.name, len(tag.articles)) for tag in tags)
    pages.add("tags/index.html", theme.render_page("tags.html", "tags/index.html", site, {"tags": counts}))
    for tag in tags:
        for path, data in _paginate(f"tags/{tag.slug}/", tag.articles):
            count = TagCount(tag.slug, tag.name, len(tag.articles))
            pages.add(path, theme.render_page("tag.html", path, site, {**data, "tag": count},
                                              key=(tuple(count), page_of(data))))

    pages.add("404.html", theme.render_page("404.html", "404.html", site, {}, root=config.base_path))
    newest = ordered[:FEED_SIZE]
    key = feed_key(reuse, shared_digest, newest) if reuse is not None else b""
    frame = None
    if reuse is not None and (done := reuse.keep_page("feed.xml", key)) is not None:
        pages.add("feed.xml", Kept(done))
    else:
        if reuse is not None:
            theme.rendered["feed.xml"] = key  # type: ignore[union-attr]
            newest = _feed_articles(reuse, shared, newest)
        pages.add("feed.xml", render_feed(theme.theme if reuse is not None else theme,  # type: ignore[union-attr]
                                          site, newest, feed_bodies))
        if reuse is None:
            frame = Frame(shared, cites, tuple(newest), feed_bodies)
    pages.add("sitemap.xml", theme.render_page("sitemap.xml", "sitemap.xml", site, {
        "urls": _sitemap_urls(ordered, context_list, tags, config)}))
    if isinstance(theme, ReuseTheme):
        pages.render_deferred(theme.theme, site, jobs)
    pages.add(".nojekyll", b"")  # GitHub Pages: serve the files as they are, no Jekyll
    if config.cname:
        pages.add("CNAME", f"{config.cname}\n")  # GitHub Pages: the site's custom domain
    defaults = {f"assets/{asset}": theme.asset(asset) for asset in ASSETS}
    defaults["assets/pygments.css"] = highlight_css()
    for path, content in sorted({**defaults, **static}.items()):  # a site's static/ wins over
        if path not in pages.paths:  # the theme's assets, but never over a page of the site
            pages.add(path, content)
    page_keys = theme.rendered if isinstance(theme, ReuseTheme) else {}
    outline = Outline(tuple(shared.tag_names.items()), tuple(a.slug for a in ordered[:FEED_SIZE]))
    return Built(pages.files, pages.written, anew, page_keys, shared_digest, len(kept), frame, outline)


def _render_deferred(theme: Theme | MemoTheme, site: dict[str, Any], sink: Sink, page: Deferred) -> Any:
    """Runs in a worker: a page of the site's lists rendered and written."""
    return sink(page.path, theme.render_page(page.name, page.path, site, page.data, page.root))


def _unique_slugs(refs: Iterable[ContextRef]) -> list[str]:
    return list(dict.fromkeys(ref.slug for ref in refs))


def _cited_slugs(article: Article) -> list[str]:
    refs = [ref.slug for anchor in article.anchors for ref in anchor.note.refs]
    if article.annotation:
        refs += [ref.slug for ref in article.annotation.preface_refs]
    return list(dict.fromkeys(refs))


def _paginate(folder: str, listings: tuple[Listing, ...]) -> Iterable[tuple[str, dict[str, Any]]]:
    """A list's pages, PAGE_SIZE articles each: folder/index.html, then folder/page/N/index.html.

    newer and older are relative to the page they appear on (the template adds its root)."""
    total = max(1, -(-len(listings) // PAGE_SIZE))
    for number in range(1, total + 1):
        chunk = tuple(listings[(number - 1) * PAGE_SIZE : number * PAGE_SIZE])
        yield folder + _page_path(number), {
            "articles": chunk, "number": number, "total": total,
            "newer": folder + _page_path(number - 1) if number > 1 else None,
            "older": folder + _page_path(number + 1) if number < total else None,
        }


def _page_path(number: int) -> str:
    return "index.html" if number == 1 else f"page/{number}/index.html"


def _timestamp(date: dt.date | None) -> str:
    return f"{(date or dt.date(1970, 1, 1)).isoformat()}T00:00:00Z"


def _sitemap_urls(articles: list[Article], entries: list[ContextEntry], tags: list[Tag],
                  config: Config) -> tuple[tuple[str, str], ...]:
    base = config.base_url
    urls = [(base, "")]
    urls += [(f"{base}{a.slug}/", a.date.isoformat() if a.date else "") for a in articles]
    urls += [(f"{base}context/", "")] + [(f"{base}context/{e.slug}/", "") for e in entries]
    urls += [(f"{base}tags/", "")] + [(f"{base}tags/{t.slug}/", "") for t in tags]
    return tuple(urls)


def news_article_json_ld(article: Article, cited: list[ContextEntry], config: Config) -> str:
    """schema.org NewsArticle for the page, safe inside <script>: no '<', '>' or '&' survives.

        {"@context": "https://schema.org", "@type": "NewsArticle", "headline": TITLE, "url": URL,
         "mainEntityOfPage": URL, "inLanguage": LANGUAGE,
         "publisher": {"@type": "Organization", "name": SITE_TITLE, "url": BASE_URL},
         "datePublished": DATE, "description": SUMMARY, "keywords": [TAG, ...],
         "author": {"@type": "Person", "name": ANNOTATOR}  (else the site's author, an Organization),
         "isBasedOn": SOURCE_URL,
         "mentions": [{"@type": "Thing", "name": TITLE, "description": SUMMARY, "url": URL}, ...]}

    From datePublished on, each only when the article has one. Written, as web_annotations is, as
    text around each string's JSON: 10 us an article of the corpus against 16 for encoding the dict,
    which a test holds it to."""
    base, annotation = config.base_url, article.annotation
    url = json_string(f"{base}{article.slug}/")
    parts = ['{"@context":"https://schema.org","@type":"NewsArticle","headline":', json_string(article.title),
             ',"url":', url, ',"mainEntityOfPage":', url, ',"inLanguage":', json_string(config.language),
             ',"publisher":{"@type":"Organization","name":', json_string(config.title), ',"url":',
             json_string(base), "}"]
    if article.date:
        parts += (',"datePublished":"', article.date.isoformat(), '"')
    if article.summary:
        parts += (',"description":', json_string(article.summary))
    if article.tags:
        parts += (',"keywords":[', ",".join(map(json_string, article.tags)), "]")
    if annotation and annotation.annotator:
        parts += (',"author":{"@type":"Person","name":', json_string(annotation.annotator), "}")
    elif config.author:
        parts += (',"author":{"@type":"Organization","name":', json_string(config.author), "}")
    if annotation and annotation.source_url:
        parts += (',"isBasedOn":', json_string(annotation.source_url))
    if cited:
        parts += (',"mentions":[', ",".join(
            f'{{"@type":"Thing","name":{json_string(entry.title)},"description":{json_string(entry.summary)},'
            f'"url":{json_string(f"{base}context/{entry.slug}/")}}}' for entry in cited), "]")
    parts.append("}")
    return "".join(parts).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def web_annotations(article: Article, notes: list[RenderedNote], config: Config) -> str:
    """The notes in the W3C Web Annotation Data Model, as an AnnotationPage:

        {"@context": ..., "id": PAGE/annotations.json, "type": "AnnotationPage", "label": TITLE,
         "items": [{"id": PAGE#NOTE, "type": "Annotation", "motivation": "commenting",
                    "body": {"type": "TextualBody", "value": HTML, "format": "text/html",
                             "language": LANGUAGE},
                    "target": {"source": PAGE, "selector": [
                        {"type": "TextQuoteSelector", "exact": QUOTE, "prefix": ..., "suffix": ...},
                        {"type": "TextPositionSelector", "start": START, "end": END}]},
                    "creator": {"type": "Person", "name": ANNOTATOR}}, ...]}

    Written as text around each string's JSON (compact, see json_string), which takes
    half the time of encoding the same dicts: a test holds the two to the same bytes."""
    page_url = f"{config.base_url}{article.slug}/"
    annotation = article.annotation
    creator = (f',"creator":{{"type":"Person","name":{json_string(annotation.annotator)}}}'
               if annotation and annotation.annotator else "")
    language, source = json_string(config.language), json_string(page_url)
    items = []
    anchors = sorted(article.anchors, key=lambda a: a.number)
    for note, anchor in zip(notes, anchors, strict=True):
        prefix, suffix = selector_context(article.seed, anchor.start, anchor.end)
        items.append(
            f'{{"id":{json_string(f"{page_url}#{anchor.id}")},"type":"Annotation","motivation":"commenting",'
            f'"body":{{"type":"TextualBody","value":{json_string(note.html)},"format":"text/html",'
            f'"language":{language}}},"target":{{"source":{source},"selector":['
            f'{{"type":"TextQuoteSelector","exact":{json_string(note.quote)},"prefix":{json_string(prefix)},'
            f'"suffix":{json_string(suffix)}}},'
            f'{{"type":"TextPositionSelector","start":{anchor.start},"end":{anchor.end}}}]}}{creator}}}')
    page_id = json_string(page_url + "annotations.json")
    return (f'{{"@context":"http://www.w3.org/ns/anno.jsonld","id":{page_id},"type":"AnnotationPage",'
            f'"label":{json_string(article.title)},"items":[{",".join(items)}]}}\n')

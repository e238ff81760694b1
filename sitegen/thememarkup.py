"""The default theme's markup, written in Python: every page of a site that keeps the default
templates, and the items of article lists and of a context entry's citations.

Each writer of WRITERS returns exactly what Jinja makes of its template (with base.html,
footer.html and macros.html) from the same template data, byte for byte; Theme.render calls it
instead of Jinja while a site overrides none of the templates it stands for. A site's own
footer.html is rendered by Jinja and put in its place. So a site without templates of its own is
built without importing Jinja at all (25 ms, the templates loaded), and its pages are written
faster: Jinja took 140 us of an article's 950 in a build, most of it resolving each name and
attribute, escaping into Markup objects and passing each piece through three generators; the
article page takes 20 here, and a list page of 50 articles 75 rather than 150 (its items
written before).

`article_items` and `citation_items` are template functions: the default macros.html's
article_list and context.html call them for what were loops of a dozen expressions an item
(13 us an item in Jinja, 2 here; 40,000 items at 10,000 articles). A site's own templates may
call them too, or loop over the same data themselves.

tests/test_thememarkup.py renders both ways and compares, on the sample site and on generated
data: a change to the templates fails it until these functions make the same markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from markupsafe import Markup

from .model import Listing
from .render import template_text as escape  # as Jinja's autoescape writes a value

ARTICLE_TEMPLATES = frozenset({"article.html", "base.html"})  # what it stands for, beside the footer


@lru_cache(maxsize=4096)  # each list page shows 50 dates, and a site has far fewer days than items
def human_date(date: dt.date | None) -> str:
    """A date as the default theme prints it (every template's `human_date` filter)."""
    return f"{date.day} {date:%B %Y}" if date else ""


def article_page(site: dict[str, Any], root: str, data: dict[str, Any], footer: str | None = None) -> str:
    """The page article.html renders from `data` (render_article's) for a page `root` below the
    site's top (`../` for an article); with `footer`, what the site's own footer.html rendered."""
    config, article = site["config"], data["article"]
    page = _Page(config, root, footer)
    title = escape(article.title)
    return page.markup(f"{title} · {page.site_title}", _meta(config, article, data, title, page.site_title),
                       "article-page", _main(article, data, title, page.root))


class _Page:
    """base.html, for one page: what every page shows of the site, around its own blocks."""

    __slots__ = ("config", "footer", "root", "site_title")

    def __init__(self, config: Any, root: str, footer: str | None) -> None:
        self.config = config
        self.root = escape(root)
        self.site_title = escape(config.title)
        self.footer = footer  # a site's own footer.html, rendered; None: the default's

    def markup(self, title: str, meta: list[str] | None, body_class: str, main: list[str]) -> str:
        """The page with its title, meta (None: base.html's own), body class and main blocks,
        each already escaped."""
        config, root, site_title = self.config, self.root, self.site_title
        if meta is None:
            meta = [f'<meta name="description" content="{escape(config.description)}">\n'
                    if config.description else ""]
        return "".join([
            f'<!doctype html>\n<html lang="{escape(config.language)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n",
            *meta,
            f'<meta name="generator" content="sitegen">\n<meta name="color-scheme" content="light dark">\n'
            f'<link rel="icon" href="{root}assets/favicon.svg" type="image/svg+xml">\n'
            f'<link rel="stylesheet" href="{root}assets/style.css">\n'
            f'<link rel="stylesheet" href="{root}assets/pygments.css">\n'
            f'<link rel="alternate" type="application/atom+xml" title="{site_title}" href="{root}feed.xml">\n'
            '<script>try{var t=localStorage.getItem("sitegen-theme");if(t==="light"||t==="dark")'
            "document.documentElement.dataset.theme=t}catch(e){}</script>\n"
            f'<script src="{root}assets/site.js" defer></script>\n</head>\n<body class="{body_class}">\n'
            '<a class="skip-link" href="#main">Skip to content</a>\n<header class="site-header">\n'
            f'  <a class="site-title" href="{root}index.html">{site_title}</a>\n'
            '  <nav class="site-nav" aria-label="Site">\n'
            f'    <a href="{root}index.html">Articles</a>\n'
            f'    <a href="{root}context/index.html">Context</a>\n'
            f'    <a href="{root}tags/index.html">Tags</a>\n'
            '    <button type="button" class="theme-toggle" aria-pressed="false" hidden>Dark theme</button>\n'
            '  </nav>\n</header>\n<main id="main" tabindex="-1">\n',
            *main,
            "</main>\n",
            _footer(config, site_title, root) if self.footer is None else self.footer,
            "</body>\n</html>\n",
        ])


def _footer(config: Any, site_title: str, root: str) -> str:
    """footer.html."""
    author = f" · {escape(config.author)}" if config.author else ""
    return (f'<footer class="site-footer">\n  <p>{site_title}{author} · '
            f'<a href="{root}feed.xml">Atom feed</a></p>\n</footer>\n')


def _meta(config: Any, article: Any, data: dict[str, Any], title: str, site_title: str) -> list[str]:
    """The `meta` block of article.html."""
    summary = data["summary"]
    described = escape(summary) if summary else ""
    url = escape(data["url"])
    parts = [
        f'<meta name="description" content="{described}">' if summary else "",
        f'<link rel="canonical" href="{url}">\n<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{title}">\n',
        f'<meta property="og:description" content="{described}">' if summary else "",
        f'<meta property="og:url" content="{url}">\n'
        f'<meta property="og:site_name" content="{site_title}">\n'
        f'<meta property="og:locale" content="{escape(config.language).replace("-", "_")}">\n',
    ]
    if article.date:
        published = escape(article.date.isoformat())
        parts.append(f'<meta property="article:published_time" content="{published}">')
    parts += [f'<meta property="article:tag" content="{escape(name)}">\n' for _, name in data["tags"]]
    parts.append('<meta name="twitter:card" content="summary">\n'
                 f'<meta name="twitter:title" content="{title}">\n')
    if summary:
        parts.append(f'<meta name="twitter:description" content="{described}">')
    parts.append(f'<script type="application/ld+json">{data["json_ld"]}</script>\n')
    return parts


def _main(article: Any, data: dict[str, Any], title: str, root: str) -> list[str]:
    """The `main` block of article.html."""
    notes, tags, preface, cited = data["notes"], data["tags"], data["preface"], data["cited"]
    parts = [f'<header class="article-header">\n  <h1>{title}</h1>\n  <p class="article-meta">\n    ']
    if article.date:
        parts.append(f'<time datetime="{escape(article.date)}">{escape(human_date(article.date))}</time>')
    parts.append("\n")
    if article.annotation and article.annotation.annotator:
        parts.append(f'<span class="annotator">Annotated by {escape(article.annotation.annotator)}</span>')
    if notes:
        count = len(notes)
        parts.append(f'<a class="notes-count" href="#notes">{count} note{"" if count == 1 else "s"}</a>')
    parts.append("  </p>\n")
    if tags:
        parts.append('  <ul class="tags" aria-label="Tags">\n')
        parts += [f'<li><a href="{root}tags/{escape(slug)}/index.html">{escape(name)}</a></li>'
                  for slug, name in tags]
        parts.append("  </ul>\n")
    parts.append("</header>\n")
    # The long HTML goes into the list as it is: in an f-string, it would be copied once more.
    if preface:
        parts += ('<section class="preface" aria-labelledby="preface-title">\n'
                  '  <h2 id="preface-title" class="preface-title">Editor’s note</h2>\n  ',  # noqa: RUF001
                  preface, "\n</section>\n")
    parts += ('<div class="reading">\n<article id="article" class="article-text">\n', data["body"],
              "\n</article>\n")
    if notes:
        parts += ('<aside class="sidenotes" aria-label="Notes beside the text">\n', data["sidenotes"],
                  "</aside>\n</div>\n"
                  '<section id="notes" class="endnotes" role="doc-endnotes" aria-labelledby="notes-title">\n'
                  '  <h2 id="notes-title">Notes</h2>\n  <ol>\n', data["endnotes"], "  </ol>\n</section>\n")
    else:
        parts.append("</div>\n")
    if cited:
        parts.append('<section class="cited" aria-labelledby="cited-title">\n'
                     '  <h2 id="cited-title">Context</h2>\n  <ul>\n')
        parts += [f'    <li><a href="{root}context/{escape(entry.slug)}/index.html">'
                  f"{escape(entry.title)}</a>: {escape(entry.summary)}</li>\n" for entry in cited]
        parts.append("  </ul>\n</section>\n")
    return parts


ITEM_START = '  <li class="article-item">\n    <h2 class="article-item-title"><a href="'


def article_items(articles: Any, root: str) -> Markup:
    """The default article_list macro's list of articles (each a Listing) on a page at root."""
    root = escape(root)
    parts = ['<ol class="article-list">\n']
    for item in articles:
        parts += (ITEM_START, root, _cached_item(item) if type(item) is Listing else _item(item))
    parts.append("</ol>\n")
    return Markup("".join(parts))


def _item(item: Any) -> str:
    """An item of article_items, from what follows the root of its link on: an article is an
    item on every list it is on (the site's pages, one for each of its tags), always the same."""
    date, notes, tags = item.date, item.notes, item.tags
    parts = [f'{escape(item.slug)}/index.html">{escape(item.title)}</a></h2>\n'
             '    <p class="article-item-meta">']
    if date:
        parts.append(f'<time datetime="{escape(date)}">{escape(human_date(date))}</time> · ')
    parts.append(f'{escape(notes)} note{"" if notes == 1 else "s"}')
    if tags:
        joined = '</span>, <span class="tag">'.join(map(escape, tags))
        parts.append(f' · <span class="tag-list"><span class="tag">{joined}</span></span>')
    parts.append("</p>\n")
    if item.summary:
        parts.append(f'<p class="article-item-summary">{escape(item.summary)}</p>')
    parts.append("  </li>\n")
    return "".join(parts)


# Each article is on several lists (the site's pages, its tags' pages): up to 16,384 articles
# (some 10 MB of items) each is written once; beyond that, only where its lists come close.
_cached_item = lru_cache(maxsize=16384)(_item)


def citation_items(citations: Any, root: str) -> Markup:
    """The list items of context.html's citations (each a Citation) on a page at root."""
    root = escape(root)
    parts = []
    for citation in citations:
        article, note = citation.article, citation.note
        link = f"{root}{escape(article.slug)}/index.html"
        parts.append(f'    <li><a href="{link}">{escape(article.title)}</a>')
        if note:
            parts.append(f', note {escape(note.number)} on <a href="{link}#{escape(note.id)}">'
                         f"\u201c{escape(note.quote)}\u201d</a></li>\n")
        else:
            parts.append(", in the editor\u2019s note</li>\n")
    return Markup("".join(parts))


# -- the site's other pages: each function is the template it is named after, with base.html
# (and macros.html for the lists), from the template data build_site_reusing gives it.

def index_page(site: dict[str, Any], root: str, data: dict[str, Any], footer: str | None = None) -> str:
    """index.html: one page of the list of every article."""
    config, number = site["config"], data["number"]
    page = _Page(config, root, footer)
    main = [f'<h1 class="page-title">{page.site_title}</h1>\n']
    if config.description:
        main.append(f'<p class="page-intro">{escape(config.description)}</p>\n')
    articles = data["articles"]
    main.append(f"{article_items(articles, root)}\n" if articles
                else "<p>No articles yet: put one in seeds/.</p>\n")
    main.append(f"{_pagination(data, page.root)}\n")
    title = f"Page {escape(number)} · {page.site_title}" if number > 1 else page.site_title
    return page.markup(title, None, "list-page", main)


def tag_page(site: dict[str, Any], root: str, data: dict[str, Any], footer: str | None = None) -> str:
    """tag.html: one page of the list of a tag's articles."""
    page = _Page(site["config"], root, footer)
    tag, number = data["tag"], data["number"]
    name, count = escape(tag.name), tag.count
    main = [f'<p class="kicker"><a href="{page.root}tags/index.html">Tags</a></p>\n'
            f'<h1 class="page-title">{name}</h1>\n'
            f'<p class="page-intro">{escape(count)} article{"" if count == 1 else "s"}</p>\n'
            f'{article_items(data["articles"], root)}\n{_pagination(data, page.root)}\n']
    title = f"{name} (page {escape(number)})" if number > 1 else name
    return page.markup(f"{title} · {page.site_title}", None, "list-page", main)


def _pagination(data: dict[str, Any], root: str) -> str:
    """The pagination macro of macros.html (root escaped)."""
    number, total, newer, older = data["number"], data["total"], data["newer"], data["older"]
    if not total > 1:
        return ""
    parts = ['<nav class="pagination" aria-label="Pages">\n']
    if newer:
        parts.append(f'  <a rel="prev" href="{root}{escape(newer)}">\u2190 Newer</a>\n')
    parts.append(f"  <span>Page {escape(number)} of {escape(total)}</span>\n")
    if older:
        parts.append(f'  <a rel="next" href="{root}{escape(older)}">Older \u2192</a>\n')
    parts.append("</nav>\n")
    return "".join(parts)


def context_page(site: dict[str, Any], root: str, data: dict[str, Any], footer: str | None = None) -> str:
    """context.html: a context entry, with the notes that cite it."""
    page = _Page(site["config"], root, footer)
    entry, citations = data["entry"], data["citations"]
    title, summary = escape(entry.title), escape(entry.summary)
    main = ['<header class="article-header">\n'
            f'  <p class="kicker"><a href="{page.root}context/index.html">Context</a></p>\n'
            f"  <h1>{title}</h1>\n  <p class=\"lede\">{summary}</p>\n</header>\n"
            f'<div class="prose">\n{data["body"]}\n</div>\n'
            '<section class="citations" aria-labelledby="citations-title">\n'
            '  <h2 id="citations-title">Cited in</h2>\n',
            f"  <ul>\n{citation_items(citations, root)}  </ul>\n" if citations
            else "  <p>No article cites this entry yet.</p>\n",
            "</section>\n"]
    return page.markup(f"{title} · {page.site_title}", [f'<meta name="description" content="{summary}">\n'],
                       "context-page", main)


def context_index_page(site: dict[str, Any], root: str, data: dict[str, Any],
                       footer: str | None = None) -> str:
    """context_index.html: every context entry, with how often it is cited."""
    page = _Page(site["config"], root, footer)
    main = ['<h1 class="page-title">Context</h1>\n'
            '<p class="page-intro">Background entries that the notes cite.</p>\n']
    main += _listed('<ul class="entry-list">\n', [
        f'  <li>\n    <h2 class="article-item-title"><a href="{page.root}context/{escape(entry.slug)}'
        f'/index.html">{escape(entry.title)}</a></h2>\n'
        f'    <p class="article-item-summary">{escape(entry.summary)}</p>\n'
        f'    <p class="article-item-meta">Cited {escape(count)} time{"" if count == 1 else "s"}</p>\n'
        "  </li>\n" for entry, count in data["entries"]], "<p>No context entries yet.</p>\n")
    return page.markup(f"Context · {page.site_title}", None, "list-page", main)


def tags_page(site: dict[str, Any], root: str, data: dict[str, Any], footer: str | None = None) -> str:
    """tags.html: every tag, with its number of articles."""
    page = _Page(site["config"], root, footer)
    main = ['<h1 class="page-title">Tags</h1>\n', *_listed('<ul class="tag-cloud">\n', [
        f'  <li><a href="{page.root}tags/{escape(tag.slug)}/index.html">{escape(tag.name)}</a> '
        f'<span class="count">{escape(tag.count)}</span></li>\n' for tag in data["tags"]],
        "<p>No tags yet.</p>\n")]
    return page.markup(f"Tags · {page.site_title}", None, "list-page", main)


def _listed(opening: str, items: list[str], empty: str) -> list[str]:
    """A list's markup, from its opening tag, or the sentence that stands for an empty list."""
    return [opening, *items, "</ul>\n"] if items else [empty]


def not_found_page(site: dict[str, Any], root: str, data: dict[str, Any], footer: str | None = None) -> str:
    """404.html."""
    page = _Page(site["config"], root, footer)
    main = ['<h1 class="page-title">Page not found</h1>\n'
            f'<p>There is no page at this address. The <a href="{page.root}index.html">list of articles</a> '
            "has everything this site holds.</p>\n"]
    return page.markup(f"Page not found · {page.site_title}", None, "", main)


def feed(site: dict[str, Any], root: str, data: dict[str, Any], footer: str | None = None) -> str:
    """feed.xml: the Atom feed of the newest articles, with their texts."""
    config, updated, timestamp = site["config"], escape(data["updated"]), data["timestamp"]
    base = escape(config.base_url)
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
             f'xml:lang="{escape(config.language)}">\n  <title>{escape(config.title)}</title>\n']
    if config.description:
        parts.append(f"  <subtitle>{escape(config.description)}</subtitle>\n")
    parts.append(f'  <id>{base}</id>\n  <link rel="alternate" type="text/html" href="{base}"/>\n'
                 f'  <link rel="self" type="application/atom+xml" href="{base}feed.xml"/>\n'
                 f"  <updated>{updated}</updated>\n"
                 f"  <author><name>{escape(config.author or config.title)}</name></author>\n"
                 "  <generator>sitegen</generator>\n")
    for article, body in data["entries"]:
        url = f"{base}{escape(article.slug)}/"
        published = escape(timestamp(article.date)) if article.date else ""
        parts.append(f"  <entry>\n    <title>{escape(article.title)}</title>\n    <id>{url}</id>\n"
                     f'    <link rel="alternate" type="text/html" href="{url}"/>\n'
                     f"    <updated>{published or updated}</updated>\n")
        if published:
            parts.append(f"    <published>{published}</published>\n")
        if article.annotator:  # an Article, or a site.FeedArticle
            parts.append(f"    <author><name>{escape(article.annotator)}</name></author>\n")
        parts += [f'    <category term="{escape(tag)}"/>\n' for tag in article.tags]
        if article.summary:
            parts.append(f"    <summary>{escape(article.summary)}</summary>\n")
        parts.append(f'    <content type="html">{escape(body)}</content>\n  </entry>\n')
    parts.append("</feed>\n")
    return "".join(parts)


def sitemap(site: dict[str, Any], root: str, data: dict[str, Any], footer: str | None = None) -> str:
    """sitemap.xml: the address of every page but the 404, with its article's date."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
    parts += [f"  <url><loc>{escape(url)}</loc><lastmod>{escape(lastmod)}</lastmod></url>\n" if lastmod
              else f"  <url><loc>{escape(url)}</loc></url>\n" for url, lastmod in data["urls"]]
    parts.append("</urlset>\n")
    return "".join(parts)


class Writer(NamedTuple):
    """What writes one of the default theme's pages, and the templates it stands for: it is used
    while the site overrides none of them. (Where they include base.html, and so footer.html, a
    site's own footer.html is rendered by Jinja and put in its place.)"""

    write: Callable[[dict[str, Any], str, dict[str, Any], str | None], str]
    templates: frozenset[str]


_HTML = frozenset({"base.html"})
_LISTS = frozenset({"base.html", "macros.html"})
WRITERS = {
    "article.html": Writer(article_page, ARTICLE_TEMPLATES),
    "index.html": Writer(index_page, _LISTS | {"index.html"}),
    "tag.html": Writer(tag_page, _LISTS | {"tag.html"}),
    "context.html": Writer(context_page, _HTML | {"context.html"}),
    "context_index.html": Writer(context_index_page, _HTML | {"context_index.html"}),
    "tags.html": Writer(tags_page, _HTML | {"tags.html"}),
    "404.html": Writer(not_found_page, _HTML | {"404.html"}),
    "feed.xml": Writer(feed, frozenset({"feed.xml"})),
    "sitemap.xml": Writer(sitemap, frozenset({"sitemap.xml"})),
}

"""The default theme's markup for what a build renders most often, written in Python: the
article page, and the items of article lists and of a context entry's citations.

`article_page` returns exactly what Jinja makes of templates/article.html (with base.html and
footer.html) from the same template data, byte for byte; Theme.render calls it instead of Jinja
while a site overrides neither article.html nor base.html. A site's own footer.html is rendered
by Jinja and put in its place. It is the page every article gets: Jinja took 140 us of an
article's 950 in a build, most of it resolving each name and attribute, escaping into Markup
objects and passing each piece through three generators; this takes 20.

`article_items` and `citation_items` are template functions: the default macros.html's
article_list and context.html call them for what were loops of a dozen expressions an item
(13 us an item in Jinja, 2 here; 40,000 items at 10,000 articles). A site's own templates may
call them too, or loop over the same data themselves.

tests/test_thememarkup.py renders both ways and compares, on the sample site and on generated
data: a change to the templates fails it until these functions make the same markup.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

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
    config = site["config"]
    article = data["article"]
    title, site_title, language = escape(article.title), escape(config.title), escape(config.language)
    root = escape(root)
    parts = [
        f'<!doctype html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} · {site_title}</title>\n",
        *_meta(config, article, data, title, site_title),
        f'<meta name="generator" content="sitegen">\n<meta name="color-scheme" content="light dark">\n'
        f'<link rel="icon" href="{root}assets/favicon.svg" type="image/svg+xml">\n'
        f'<link rel="stylesheet" href="{root}assets/style.css">\n'
        f'<link rel="stylesheet" href="{root}assets/pygments.css">\n'
        f'<link rel="alternate" type="application/atom+xml" title="{site_title}" href="{root}feed.xml">\n'
        '<script>try{var t=localStorage.getItem("sitegen-theme");if(t==="light"||t==="dark")'
        "document.documentElement.dataset.theme=t}catch(e){}</script>\n"
        f'<script src="{root}assets/site.js" defer></script>\n</head>\n<body class="article-page">\n'
        '<a class="skip-link" href="#main">Skip to content</a>\n<header class="site-header">\n'
        f'  <a class="site-title" href="{root}index.html">{site_title}</a>\n'
        '  <nav class="site-nav" aria-label="Site">\n'
        f'    <a href="{root}index.html">Articles</a>\n'
        f'    <a href="{root}context/index.html">Context</a>\n'
        f'    <a href="{root}tags/index.html">Tags</a>\n'
        '    <button type="button" class="theme-toggle" aria-pressed="false" hidden>Dark theme</button>\n'
        '  </nav>\n</header>\n<main id="main" tabindex="-1">\n',
        *_main(article, data, title, root),
        "</main>\n",
        _footer(config, site_title, root) if footer is None else footer,
        "</body>\n</html>\n",
    ]
    return "".join(parts)


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

"""The default theme's markup written out in Python (thememarkup) is what Jinja makes of the
default templates, byte for byte: the article page, which gives way to a site's own templates,
and the items of article lists and of citations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen import thememarkup
from sitegen.build import Options, build_from_files, read_sources
from sitegen.model import Annotation, Article, Config, ContextEntry, Listing
from sitegen.seeds import parse_seed
from sitegen.site import Citation, NoteRef, TagCount
from sitegen.theme import Theme

from .conftest import REPO, SAMPLE_SEED

ROOT = "../"


def jinja_page(site: dict[str, Any], root: str, data: dict[str, Any],
               overrides: dict[str, str] | None = None) -> str:
    """What Jinja makes of article.html, base.html and footer.html from this template data."""
    template = Theme(overrides or {}).environment.get_template("article.html")
    return template.render(site=site, path="a/index.html", root=root, **data)


def test_every_article_of_the_sample_site_is_the_page_jinja_renders(monkeypatch):
    calls = []

    def recorded(site: dict[str, Any], root: str, data: dict[str, Any], footer: str | None = None) -> str:
        calls.append((site, root, data))
        return thememarkup.article_page(site, root, data, footer)

    monkeypatch.setitem(thememarkup.WRITERS, "article.html",
                        thememarkup.Writer(recorded, thememarkup.ARTICLE_TEMPLATES))
    site, problems = build_from_files(read_sources(REPO), Options(jobs=1))
    assert site is not None and not [p for p in problems if p.severity == "error"]
    assert calls, "the sample's articles are rendered by article_page"
    sample = [data for _, _, data in calls]
    # The sample holds what the page's conditions test: a preface, context cited, tags, notes.
    assert any(data["preface"] for data in sample) and any(data["cited"] for data in sample)
    assert any(data["tags"] for data in sample) and any(data["notes"] for data in sample)
    own = {"footer.html": (REPO / "templates" / "footer.html").read_text("utf-8")}  # the sample's
    for site_data, root, data in calls:
        page = site.files[f"{data['article'].slug}/index.html"].decode()
        assert page == jinja_page(site_data, root, data, own)
        assert thememarkup.article_page(site_data, root, data) == jinja_page(site_data, root, data)


SEED, _ = parse_seed("seeds/a.txt", SAMPLE_SEED)
# Text that escaping and the templates' whitespace control would treat differently if they could.
TEXT = st.text(st.sampled_from("aZ <>&\"'’é-_\n{%"), max_size=8)  # noqa: RUF001
TAG = st.tuples(st.text(st.sampled_from("ab-<&"), min_size=1, max_size=4), TEXT)


@st.composite
def template_data(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    config = Config(title=draw(TEXT), description=draw(TEXT), author=draw(TEXT),
                    language=draw(st.sampled_from(["en", "en-GB", "pt-BR", "x<y"])))
    annotation = draw(st.one_of(st.none(), st.builds(
        lambda annotator: Annotation("content/a.md", "a.txt", "A", "a", annotator=annotator), TEXT)))
    date = draw(st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))))
    article = Article("a", SEED, draw(TEXT), date, annotation)
    entry = st.builds(lambda slug, title, summary: ContextEntry("c.md", slug, title, summary, ""),
                      st.text(st.sampled_from("ab-<&"), min_size=1, max_size=4), TEXT, TEXT)
    cited = draw(st.lists(entry, max_size=3))
    data = {"article": article, "summary": draw(TEXT), "tags": draw(st.lists(TAG, max_size=3)),
            "preface": draw(TEXT), "body": draw(TEXT), "notes": draw(st.lists(st.none(), max_size=3)),
            "sidenotes": draw(TEXT), "endnotes": draw(TEXT), "cited": cited,
            "url": draw(TEXT), "json_ld": draw(TEXT)}
    site = {"config": config, "contexts": len(cited), "tags": len(data["tags"])}
    return site, data


@settings(max_examples=400)
@given(template_data(), st.sampled_from(["../", "", "../../", "a&b/"]))
def test_the_page_is_what_jinja_renders_from_the_same_data(drawn, root):
    site, data = drawn
    assert thememarkup.article_page(site, root, data) == jinja_page(site, root, data)


def example() -> tuple[dict[str, Any], dict[str, Any]]:
    config = Config(title="T", author="Ann")
    annotation = Annotation("content/a.md", "a.txt", "A", "a", annotator="Desk")
    article = Article("a", SEED, "A title", dt.date(2024, 5, 1), annotation)
    data = {"article": article, "summary": "S", "tags": [("t", "T")], "preface": "<p>P</p>",
            "body": "<p>B</p>", "notes": [None], "sidenotes": "s", "endnotes": "e", "cited": [],
            "url": "https://example.org/a/", "json_ld": "{}"}
    return {"config": config, "contexts": 0, "tags": 1}, data


@pytest.mark.parametrize("name", sorted(thememarkup.ARTICLE_TEMPLATES))
def test_a_site_with_its_own_article_or_base_template_gets_jinja(name):
    own = {"article.html": '{% extends "base.html" %}{% block main %}mine{% endblock %}',
           "base.html": "<p>mine</p>{% block main %}{% endblock %}\n"}[name]
    site, data = example()
    assert Theme({}).own_article_page and not Theme({name: own}).own_article_page
    assert "mine" in Theme({name: own}).render("article.html", "a/index.html", site, data)
    assert "mine" not in Theme({}).render("article.html", "a/index.html", site, data)


def test_a_site_footer_goes_into_the_quick_page_as_base_html_would_include_it():
    own = {"footer.html": "<footer>{{ article.title }} {{ root }} {{ notes|length }} {{ site.config.author }}"
                          "</footer>\n",
           "index.html": "{{ site.config.title }}"}
    site, data = example()
    page = Theme(own).render("article.html", "a/index.html", site, data)
    assert Theme(own).own_article_page and "<footer>A title ../ 1 Ann</footer>\n</body>" in page
    assert page == jinja_page(site, ROOT, data, own)


def test_an_error_in_a_site_footer_is_reported_at_its_line():
    from sitegen.theme import TemplateRenderError

    site, data = example()
    with pytest.raises(TemplateRenderError) as raised:
        Theme({"footer.html": "<footer>\n{{ no_such_thing }}</footer>\n"}).render(
            "article.html", "a/index.html", site, data)
    where = raised.value.problem.where
    assert (where.path, where.line) == ("templates/footer.html", 2)


# The default theme's loops as they were, before thememarkup wrote them: the reference.
ARTICLE_LIST_MACRO = """{% macro article_list(articles, root) %}
<ol class="article-list">
{% for item in articles %}
  <li class="article-item">
    <h2 class="article-item-title"><a href="{{ root }}{{ item.slug }}/index.html">{{ item.title }}</a></h2>
    <p class="article-item-meta">{% if item.date %}<time datetime="{{ item.date }}">{{ item.date|human_date }}</time> · {% endif %}{{ item.notes }} note{{ "" if item.notes == 1 else "s" }}{% if item.tags %} · <span class="tag-list"><span class="tag">{{ item.tags|join('</span>, <span class="tag">'|safe) }}</span></span>{% endif %}</p>
    {% if item.summary %}<p class="article-item-summary">{{ item.summary }}</p>{% endif %}
  </li>
{% endfor %}
</ol>
{% endmacro %}{{ article_list(articles, root) }}"""  # noqa: E501
CITATION_LOOP = """  {% for citation in citations %}
    <li><a href="{{ root }}{{ citation.article.slug }}/index.html">{{ citation.article.title }}</a>{% if citation.note %}, note {{ citation.note.number }} on <a href="{{ root }}{{ citation.article.slug }}/index.html#{{ citation.note.id }}">“{{ citation.note.quote }}”</a>{% else %}, in the editor’s note{% endif %}</li>
  {% endfor %}
"""  # noqa: E501, RUF001
DATES = st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))
LISTING = st.builds(Listing, slug=st.text(st.sampled_from("ab-<&"), max_size=4), title=TEXT, date=DATES,
                    summary=TEXT, notes=st.integers(0, 3), tags=st.lists(TEXT, max_size=3).map(tuple))
CITATION = st.builds(Citation, article=LISTING, note=st.one_of(st.none(), st.builds(
    NoteRef, number=st.integers(1, 20), id=st.text(st.sampled_from("an-<&\""), max_size=5), quote=TEXT)))


def jinja_template(text: str) -> Any:
    return Theme({}).environment.from_string(text)


@settings(max_examples=300)
@given(st.lists(LISTING, max_size=4), st.sampled_from(["", "../../", "a&b/"]))
def test_article_items_are_the_article_list_loop(articles, root):
    assert thememarkup.article_items(articles, root) == jinja_template(ARTICLE_LIST_MACRO).render(
        articles=articles, root=root)


@settings(max_examples=300)
@given(st.lists(CITATION, max_size=4), st.sampled_from(["", "../../", "a&b/"]))
def test_citation_items_are_the_citation_loop(citations, root):
    assert thememarkup.citation_items(citations, root) == jinja_template(CITATION_LOOP).render(
        citations=citations, root=root)



# -- the site's other pages: each writer of thememarkup.WRITERS against its template

SLUG_TEXT = st.text(st.sampled_from("ab-<&"), min_size=1, max_size=4)
CONFIG = st.builds(Config, title=TEXT, description=TEXT, author=TEXT, base_url=TEXT,
                   language=st.sampled_from(["en", "pt-BR", "x<y"]))
ENTRY = st.builds(lambda slug, title, summary: ContextEntry("c.md", slug, title, summary, ""),
                  SLUG_TEXT, TEXT, TEXT)
TAG_COUNT = st.builds(TagCount, slug=SLUG_TEXT, name=TEXT, count=st.integers(0, 3))


@st.composite
def page_numbers(draw: st.DrawFn) -> dict[str, Any]:
    total = draw(st.integers(1, 4))
    number = draw(st.integers(1, total))
    return {"number": number, "total": total,
            "newer": draw(TEXT) if number > 1 else None, "older": draw(TEXT) if number < total else None}


@st.composite
def feed_entries(draw: st.DrawFn) -> tuple[tuple[Article, str], ...]:
    entries = []
    for _ in range(draw(st.integers(0, 3))):
        annotation = draw(st.one_of(st.none(), st.builds(
            lambda annotator, summary, tags: Annotation("content/a.md", "a.txt", "A", "a", summary=summary,
                                                        annotator=annotator, tags=tuple(tags)),
            TEXT, TEXT, st.lists(TEXT, max_size=2))))
        article = Article(draw(SLUG_TEXT), SEED, draw(TEXT), draw(DATES), annotation)
        entries.append((article, draw(TEXT)))
    return tuple(entries)


PAGE_DATA = {
    "index.html": st.builds(lambda pages, articles: {**pages, "articles": tuple(articles)},
                            page_numbers(), st.lists(LISTING, max_size=3)),
    "tag.html": st.builds(lambda pages, articles, tag: {**pages, "articles": tuple(articles), "tag": tag},
                          page_numbers(), st.lists(LISTING, min_size=1, max_size=3), TAG_COUNT),
    "context.html": st.fixed_dictionaries({"entry": ENTRY, "body": TEXT,
                                           "citations": st.lists(CITATION, max_size=3).map(tuple)}),
    "context_index.html": st.fixed_dictionaries({"entries": st.lists(
        st.tuples(ENTRY, st.integers(0, 3)), max_size=3).map(tuple)}),
    "tags.html": st.fixed_dictionaries({"tags": st.lists(TAG_COUNT, max_size=3).map(tuple)}),
    "404.html": st.just({}),
    "feed.xml": st.fixed_dictionaries({"entries": feed_entries(), "updated": TEXT,
                                       "timestamp": st.just(lambda date: f"{date.isoformat()}T00:00:00Z")}),
    "sitemap.xml": st.fixed_dictionaries({"urls": st.lists(
        st.tuples(TEXT, st.sampled_from(["", "2024-05-01"])), max_size=3).map(tuple)}),
}


def test_every_default_template_has_a_writer():
    assert set(thememarkup.WRITERS) == set(PAGE_DATA) | {"article.html"}
    assert set(thememarkup.WRITERS) | {"base.html", "footer.html", "macros.html"} == set(Theme({}).names)


@pytest.mark.parametrize("name", sorted(PAGE_DATA))
@settings(max_examples=150)
@given(data=st.data())
def test_each_page_is_what_jinja_renders_from_the_same_data(name, data):
    config = data.draw(CONFIG)
    site = {"config": config, "contexts": 1, "tags": 1}
    page_data, root = data.draw(PAGE_DATA[name]), data.draw(st.sampled_from(["", "../../", "a&b/"]))
    written = thememarkup.WRITERS[name].write(site, root, page_data, None)
    by_jinja = jinja_template_named(name).render(site=site, path="p/index.html", root=root, **page_data)
    assert written == by_jinja


def jinja_template_named(name: str) -> Any:
    return Theme({}).environment.get_template(name)


def test_every_page_of_the_sample_site_is_what_jinja_renders(monkeypatch):
    site, _ = build_from_files(read_sources(REPO), Options(jobs=1))
    original = Theme.__init__

    def only_jinja(self: Theme, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.writers = {}

    monkeypatch.setattr(Theme, "__init__", only_jinja)
    by_jinja, _ = build_from_files(read_sources(REPO), Options(jobs=1))
    assert site is not None and by_jinja is not None
    assert site.files.keys() == by_jinja.files.keys()
    for path, data in site.files.items():
        assert data == by_jinja.files[path], path


@pytest.mark.parametrize(("own", "by_jinja"), [
    ("index.html", {"index.html"}),
    ("macros.html", {"index.html", "tag.html"}),
    ("base.html", set(thememarkup.WRITERS) - {"feed.xml", "sitemap.xml"}),
    ("feed.xml", {"feed.xml"}),
])
def test_a_site_own_template_takes_the_place_of_the_writers_that_stand_for_it(own, by_jinja):
    assert set(thememarkup.WRITERS) - set(Theme({own: "mine"}).writers) == by_jinja


def test_a_site_without_templates_of_its_own_is_built_without_jinja(tmp_path):
    import shutil
    import subprocess
    import sys

    for folder in ("seeds", "content"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / "sitegen.toml").write_text('title = "T"\nbase_url = "https://example.org/"\n')
    probe = ("import sys; from sitegen.cli import main\n"
             "status = main(['build', '--root', sys.argv[1], '--quiet', '--jobs', '1'])\n"
             "print('jinja2' in sys.modules, status)")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["False", "0"], done.stderr
    assert (tmp_path / "public" / "tags" / "index.html").is_file()


def test_a_site_footer_sends_through_jinja_only_the_pages_that_include_it():
    assert all(Theme({}).without_jinja(name) for name in thememarkup.WRITERS)
    with_footer = Theme({"footer.html": "<footer></footer>\n"})
    written = {name for name in thememarkup.WRITERS if with_footer.without_jinja(name)}
    assert written == {"feed.xml", "sitemap.xml"}
    assert not Theme({"feed.xml": "mine"}).without_jinja("feed.xml")

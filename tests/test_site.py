"""The whole site: pages, links under a sub-path, feeds, Web Annotations, determinism, safety."""

import datetime as dt
import json
import posixpath
import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree, html

from sitegen.build import Options, build_from_files, read_sources
from sitegen.output import MARKER, StagedOutput
from sitegen.parallel import MIN_ITEMS_PER_WORKER
from sitegen.seeds import parse_seed

from .conftest import REPO, SAMPLE_SEED_NAME, annotation, site_files


def build(files, **options):
    site, problems = build_from_files(files, Options(**options))
    errors = [str(p) for p in problems if p.severity == "error"]
    assert site is not None, errors
    return site.files


@pytest.fixture(scope="module")
def sample():
    return build(read_sources(REPO))


def page(files, path):
    return html.fromstring(files[path])


def test_sample_site_has_every_page_the_spec_names(sample):
    for path in ("index.html", "blinken-beijing-2023/index.html", "blinken-beijing-2023/annotations.json",
                 "context/index.html", "context/hainan-2001/index.html", "tags/index.html",
                 "tags/us-china/index.html", "feed.xml", "sitemap.xml", "404.html", ".nojekyll",
                 "assets/style.css", "assets/pygments.css"):
        assert path in sample, path


def test_sample_annotation_has_at_least_eight_notes_citing_four_context_entries(sample):
    doc = page(sample, "blinken-beijing-2023/index.html")
    assert len(doc.xpath("//a[@role='doc-noteref']")) >= 8
    cited = {a.get("href") for a in doc.xpath("//section[@role='doc-endnotes']//a[@class='context-link']")}
    assert len(cited) >= 4


def test_article_page_structure(sample):
    doc = page(sample, "blinken-beijing-2023/index.html")
    assert len(doc.xpath("//h1")) == 1
    article = doc.xpath("//article")[0]
    assert [e.tag for e in article].count("h2") == 3
    endnotes = doc.xpath("//*[@role='doc-endnotes']")[0]
    items = endnotes.xpath(".//ol/li")
    refs = doc.xpath("//article//a[@role='doc-noteref']")
    assert [a.text for a in refs] == [str(n) for n in range(1, len(items) + 1)]
    for ref, item in zip(refs, items, strict=True):
        assert ref.get("href") == "#" + item.get("id")
        backlink = item.xpath(".//a[@role='doc-backlink']")[0]
        assert backlink.get("href") == "#" + ref.get("id")
        assert backlink.get("aria-label") == f"Back to reference {ref.text}"
    assert not doc.xpath("//*[@role='doc-endnote']")
    assert len(doc.xpath("//*[@role='doc-footnote']")) == len(items)


def test_article_text_is_the_seeds_text(sample):
    seed, _ = parse_seed("s", (REPO / "seeds" / SAMPLE_SEED_NAME).read_bytes())
    doc = page(sample, "blinken-beijing-2023/index.html")
    for sup in doc.xpath("//article//sup"):
        sup.drop_tree()
    shown = [" ".join(e.text_content().split()) for e in doc.xpath("//article")[0]]
    assert shown == [" ".join(seed.text[b.start : b.end].split()) for b in seed.blocks]


def internal_links(doc):
    for element in doc.iter():
        for attribute in ("href", "src"):
            url = element.get(attribute)
            if url and not urlsplit(url).scheme and not url.startswith("mailto:"):
                yield url
        if element.get("srcset"):
            for candidate in element.get("srcset").split(","):
                yield candidate.split()[0]


def resolve(page_url: str, url: str) -> tuple[str, str]:
    """The URL path a link leads to from the page at page_url, and its fragment."""
    address, _, fragment = url.partition("#")
    if not address:
        return page_url, fragment
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page_url), address))
    return target + ("/" if address.endswith("/") else ""), fragment


@pytest.mark.parametrize("base_path", ["/", "/repo/"])
def test_every_internal_link_resolves_when_served_under_a_sub_path(sample, base_path):
    ids = {path: set(page(sample, path).xpath("//@id")) for path in sample if path.endswith(".html")}
    for path in ids:
        for url in internal_links(page(sample, path)):
            if path == "404.html" and not url.startswith("#"):
                assert url.startswith("/sitegen/"), url  # hosts serve it at any depth
                url = base_path + url.removeprefix("/sitegen/")
                target, fragment = url.partition("#")[0], url.partition("#")[2]
            else:
                assert not url.startswith("/"), f"{path}: root-absolute link {url}"
                target, fragment = resolve(base_path + path, url)
            assert target.startswith(base_path), f"{path}: {url} leaves the site"
            relative = target[len(base_path) :]
            if relative == "" or relative.endswith("/"):
                relative += "index.html"
            assert relative in sample, f"{path}: broken link {url}"
            if fragment:
                assert fragment in ids[relative], f"{path}: missing #{fragment} in {relative}"


def test_feed_is_atom_with_absolute_urls_and_the_newest_date(sample):
    feed = etree.fromstring(sample["feed.xml"])
    atom = "{http://www.w3.org/2005/Atom}"
    assert feed.tag == f"{atom}feed"
    assert feed.find(f"{atom}updated").text == "2023-06-21T00:00:00Z"
    entry = feed.find(f"{atom}entry")
    assert entry.find(f"{atom}link").get("href") == "https://sitegen-sample.github.io/sitegen/blinken-beijing-2023/"


def test_base_url_option_overrides_the_config(sample):
    files = build(read_sources(REPO), base_url="https://news.example/")
    assert b"https://news.example/blinken-beijing-2023/" in files["feed.xml"]
    assert b"https://news.example/" in files["sitemap.xml"]


def test_sitemap_lists_every_article(sample):
    urls = etree.fromstring(sample["sitemap.xml"]).findall(".//{*}loc")
    assert "https://sitegen-sample.github.io/sitegen/blinken-beijing-2023/" in [u.text for u in urls]


def test_web_annotations_select_the_article_text(sample):
    seed, _ = parse_seed("s", (REPO / "seeds" / SAMPLE_SEED_NAME).read_bytes())
    document = json.loads(sample["blinken-beijing-2023/annotations.json"])
    assert document["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert len(document["items"]) >= 8
    for item in document["items"]:
        assert item["type"] == "Annotation"
        quote, position = item["target"]["selector"]
        assert quote["type"] == "TextQuoteSelector" and position["type"] == "TextPositionSelector"
        assert seed.text[position["start"] : position["end"]] == quote["exact"]
        assert seed.text[: position["start"]].endswith(quote["prefix"])
        assert seed.text[position["end"] :].startswith(quote["suffix"])


@pytest.mark.parametrize("annotator", ["", 'Desk "A" <b>&</b> \U0001f600'])
def test_web_annotations_are_the_json_of_the_data_model(annotator):
    """annotations.json is written as text: it must be what encoding the documented dicts gives."""
    note = '## "military communication" #2\nA "quoted" <i>note</i> \\ with\ttabs and \u2019 and \u2028.'
    front = f"annotator: {json.dumps(annotator, ensure_ascii=False)}\n" if annotator else ""
    built = build(site_files({"content/a.md": annotation(note, front=front)}))
    document = json.loads(built["a/annotations.json"])
    expected = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": "https://example.org/repo/a/annotations.json",
        "type": "AnnotationPage",
        "label": "Test article",
        "items": [{
            "id": item["id"], "type": "Annotation", "motivation": "commenting",
            "body": {"type": "TextualBody", "value": item["body"]["value"], "format": "text/html",
                     "language": "en"},
            "target": {"source": "https://example.org/repo/a/", "selector": item["target"]["selector"]},
            **({"creator": {"type": "Person", "name": annotator}} if annotator else {}),
        } for item in document["items"]],
    }
    assert document == expected and len(document["items"]) == 1
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert built["a/annotations.json"] == text.encode()


def test_context_entry_page_lists_the_notes_that_cite_it(sample):
    doc = page(sample, "context/hainan-2001/index.html")
    links = doc.xpath("//section[@class='citations']//a/@href")
    assert "../../blinken-beijing-2023/index.html#note-an-incident-like-one-in-2001" in links


def test_two_builds_are_byte_identical():
    files = read_sources(REPO)
    assert build(files) == build(files)


def test_a_sites_template_overrides_the_default_by_name(sample):
    assert b"a sample site of sitegen" in sample["index.html"]  # this repo's templates/footer.html
    files = site_files({"templates/footer.html": "<footer>OVERRIDDEN {{ site.config.title }}</footer>"})
    built = build(files)
    assert b"<footer>OVERRIDDEN Test site</footer>" in built["index.html"]


def test_plain_seed_is_published_at_its_file_name_slug_titled_by_its_first_sentence():
    files = site_files({"seeds/103_Port.txt": "date 2023-01-05 Ships met at the port. Then more."})
    built = build(files)
    doc = page(built, "103-port/index.html")
    assert doc.xpath("//h1")[0].text_content() == "Ships met at the port."


def test_annotated_seed_gets_no_plain_page():
    built = build(site_files({"content/a.md": annotation('## "Hainan" #1\nIsland.')}))
    assert "000-86e81f4737b16704/index.html" not in built
    assert "a/index.html" in built


def test_index_lists_newest_first_and_paginates_by_fifty():
    extra = {f"seeds/s{n:03}.txt": f"date 2020-01-{1 + n % 28:02} Story {n}." for n in range(120)}
    built = build(site_files(extra))
    assert "page/2/index.html" in built and "page/3/index.html" in built
    assert "page/4/index.html" not in built
    first = page(built, "index.html").xpath("//ol[@class='article-list']/li//time/@datetime")
    assert len(first) == 50 and first == sorted(first, reverse=True)
    assert page(built, "page/2/index.html").xpath("//a[@rel='prev']/@href") == ["../../index.html"]


def test_tags_differing_in_case_or_spacing_share_one_page():
    built = build(site_files({
        "content/a.md": annotation(front="tags: [US-China]\nslug: a\n"),
        "content/b.md": annotation(front="tags: ['us-china ']\nslug: b\n"),
    }))
    tag_pages = [p for p in built if p.startswith("tags/") and p != "tags/index.html"]
    assert tag_pages == ["tags/us-china/index.html"]
    assert len(page(built, "tags/us-china/index.html").xpath("//ol/li")) == 2


def test_list_pages_show_each_tag_escaped_and_comma_separated():
    built = build(site_files({"content/a.md": annotation(front="tags: ['R&D <i>', Media, \"a'b\"]\n")}))
    text = built["index.html"].decode()
    assert ('<span class="tag-list"><span class="tag">R&amp;D &lt;i&gt;</span>, '
            '<span class="tag">Media</span>, <span class="tag">a&#39;b</span></span>') in text
    tags = page(built, "index.html").xpath("//span[@class='tag-list']/span[@class='tag']/text()")
    assert tags == ["R&D <i>", "Media", "a'b"]


def test_note_markdown_is_safe():
    body = ('[bad](javascript:alert(1)) [worse](JAVASCRIPT%3Aalert(1)) [data](data:text/html,x) '
            '<script>alert(1)</script> <img src=x onerror=alert(1)> [ok](https://example.org)')
    built = build(site_files({"content/a.md": annotation(f'## "Hainan" #1\n{body}')}))
    text = built["a/index.html"].decode()
    assert "<script>alert" not in text and "<img src=x" not in text
    assert 'href="javascript' not in text.lower() and 'href="data:' not in text
    assert '<a href="https://example.org">ok</a>' in text


def test_fenced_code_in_notes_is_highlighted_and_unknown_languages_stay_plain():
    body = "```python\nx = 1\n```\n\n```nosuchlang\ny = 2\n```"
    built = build(site_files({"content/a.md": annotation(f'## "Hainan" #1\n{body}')}))
    text = built["a/index.html"].decode()
    assert '<pre class="highlight"><code class="language-python"><span class="n">x</span>' in text
    assert '<pre><code class="language-nosuchlang">y = 2\n</code></pre>' in text


def test_note_that_is_only_a_context_reference_shows_the_entry_summary():
    built = build(site_files({
        "content/a.md": annotation('## "Hainan" #1\n[[hainan]]'),
        "content/context/hainan.md": "---\ntitle: Hainan\nsummary: An island in the south.\n---\nBody.",
    }))
    item = page(built, "a/index.html").xpath("//section[@role='doc-endnotes']//li")[0]
    assert "An island in the south." in item.text_content()
    assert item.xpath(".//a[@class='context-link']/@href") == ["../context/hainan/index.html"]


def test_404_uses_urls_under_the_base_path():
    built = build(site_files())
    hrefs = re.findall(rb'(?:href|src)="([^"]+)"', built["404.html"])
    assert hrefs and all(h.startswith((b"/repo/", b"#")) for h in hrefs)


def test_parallel_build_gives_the_same_bytes_as_a_single_process_build(tmp_path):
    count = 2 * MIN_ITEMS_PER_WORKER + 10
    extra = {f"seeds/s{n:03}.txt": f"date 2021-02-{1 + n % 28:02} Story {n} about Hainan."
             for n in range(count)}
    extra |= {f"content/a{n:03}.md": annotation(f'## "Story {n} about"\nNote {n}.',
                                                 front=f"slug: a{n:03}\n").replace(
                  SAMPLE_SEED_NAME, f"s{n:03}.txt") for n in range(count)}
    files = site_files(extra)
    single = build(files, jobs=1)
    assert build(files, jobs=2) == single

    out = tmp_path / "public"
    with StagedOutput(out) as staged:  # workers write their pages straight into the staging folder
        site, _ = build_from_files(files, Options(jobs=2), sink=staged.write)
        assert site is not None and site.files == {}
        staged.commit()
    on_disk = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
               if p.is_file() and p.name != MARKER}  # the marker: sitegen's, not the site's
    assert on_disk == single


# --- metadata and deep links --------------------------------------------------------------------


def _head_meta(page: bytes) -> dict[str, list[str]]:
    tree = html.fromstring(page)
    found: dict[str, list[str]] = {}
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name")
        if key:
            found.setdefault(key, []).append(meta.get("content"))
    return found


def test_article_page_has_open_graph_twitter_and_news_article_json_ld(sample):
    page = sample["blinken-beijing-2023/index.html"]
    meta = _head_meta(page)
    assert meta["og:type"] == ["article"] and meta["article:published_time"] == ["2023-06-21"]
    assert meta["article:tag"] == ["US-China", "Military", "Diplomacy", "Taiwan"]
    assert meta["twitter:card"] == ["summary"] and meta["description"] == meta["og:description"]
    tree = html.fromstring(page)
    assert tree.find(".//link[@rel='canonical']").get("href") == meta["og:url"][0]
    data = json.loads(tree.find(".//script[@type='application/ld+json']").text)
    assert data["@type"] == "NewsArticle" and data["datePublished"] == "2023-06-21"
    assert data["publisher"]["name"] == "Annotated: US-China"
    assert data["author"] == {"@type": "Person", "name": "Sitegen sample desk"}
    assert len(data["mentions"]) >= 4 and all(m["url"].endswith("/") for m in data["mentions"])


def test_json_ld_and_meta_survive_script_endings_and_comments_in_any_field():
    nasty = 'Hainan </script><!-- "x" & y'
    tag = 'Hainan <script> <!-- "x" & y'  # a tag may not hold '/'
    front = f"summary: '{nasty}'\ntags: ['{tag}']\nannotator: '{nasty}'\n"
    files = site_files({"content/a.md": annotation('## "Hainan" #1\nNote.', front=front)})
    files["content/a.md"] = files["content/a.md"].replace(b"title: Test article",
                                                          b"title: '" + nasty.encode() + b"'")
    site, problems = build_from_files(files, Options())
    assert site is not None, problems
    page = site.files["a/index.html"]
    assert page.count(b"</script>") == page.count(b"<script")  # no script ended early
    data = json.loads(html.fromstring(page).find(".//script[@type='application/ld+json']").text)
    assert data["headline"] == nasty and data["description"] == nasty
    assert data["keywords"] == [tag] and data["author"]["name"] == nasty
    assert _head_meta(page)["og:title"] == [nasty]


JSON_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@given(title=JSON_TEXT, summary=JSON_TEXT, tags=st.lists(JSON_TEXT, max_size=3), annotator=JSON_TEXT,
       author=JSON_TEXT, source=JSON_TEXT, dated=st.booleans(), cited=st.lists(
           st.tuples(JSON_TEXT, JSON_TEXT, st.from_regex(r"[a-z0-9-]{1,8}", fullmatch=True)), max_size=3),
       annotated=st.booleans())
def test_json_ld_is_the_compact_json_of_the_documented_dict(title, summary, tags, annotator, author, source,
                                                            dated, cited, annotated):
    """news_article_json_ld is written as text: it must be what encoding its dict gives."""
    from types import SimpleNamespace

    from sitegen.model import Config, ContextEntry
    from sitegen.site import news_article_json_ld

    config = Config(title="Site <&>", base_url="https://example.org/s/", language="en-GB", author=author)
    note = SimpleNamespace(annotator=annotator, source_url=source)
    article = SimpleNamespace(slug="an-article", title=title, summary=summary, tags=tuple(tags),
                              date=dt.date(2023, 6, 21) if dated else None,
                              annotation=note if annotated else None)
    entries = [ContextEntry(f"content/context/{slug}.md", slug, name, about, "", ())
               for name, about, slug in cited]
    url = "https://example.org/s/an-article/"
    data: dict[str, object] = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "url": url,
        "mainEntityOfPage": url, "inLanguage": "en-GB",
        "publisher": {"@type": "Organization", "name": "Site <&>", "url": "https://example.org/s/"}}
    if dated:
        data["datePublished"] = "2023-06-21"
    if summary:
        data["description"] = summary
    if tags:
        data["keywords"] = tags
    if annotated and annotator:
        data["author"] = {"@type": "Person", "name": annotator}
    elif author:
        data["author"] = {"@type": "Organization", "name": author}
    if annotated and source:
        data["isBasedOn"] = source
    if entries:
        data["mentions"] = [{"@type": "Thing", "name": entry.title, "description": entry.summary,
                             "url": f"https://example.org/s/context/{entry.slug}/"} for entry in entries]
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    expected = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    assert news_article_json_ld(article, entries, config) == expected  # type: ignore[arg-type]


def test_source_url_gives_each_note_a_text_fragment_link_to_the_original():
    front = "source_url: https://news.example.org/story?id=7#top\n"
    files = site_files({"content/a.md": annotation('## "Hainan" #1\nNote.', front=front)})
    site, problems = build_from_files(files, Options())
    assert site is not None, problems
    links = html.fromstring(site.files["a/index.html"]).xpath("//a[@class='note-source']")
    assert [link.get("href") for link in links] == ["https://news.example.org/story?id=7#:~:text=Hainan"]
    assert links[0].get("aria-label") == "Quote 1 in the original article"


def test_a_long_quote_links_by_its_first_and_last_words_with_dashes_escaped():
    from sitegen.render import text_fragment_link

    quote = "one two three four five six-seven eight nine ten eleven twelve thirteen fourteen"
    assert text_fragment_link("https://x.org/a", quote) == (
        "https://x.org/a#:~:text=one%20two%20three%20four%20five,ten%20eleven%20twelve%20thirteen%20fourteen")
    assert text_fragment_link("https://x.org/a", "US-China, ties & more") == (
        "https://x.org/a#:~:text=US%2DChina%2C%20ties%20%26%20more")


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 40)), unique=True, max_size=80),
       st.lists(st.integers(0, 3), max_size=80), st.integers(1, 6), st.randoms())
def test_the_newest_articles_are_among_those_their_workers_saw_as_newest(keys, workers, size, rng):
    """However articles are shared out among workers, and in whatever order each sees its own,
    the site's `size` newest are among those their worker's among_newest said yes to."""
    from sitegen.site import among_newest, newest_rank

    ranks = [newest_rank(dt.date(2020, 1, 1) + dt.timedelta(days) if dated else None, f"a{days:02}")
             for dated, days in keys]
    shares: dict[int, list[tuple[object, ...]]] = {}
    for index, rank in enumerate(ranks):
        shares.setdefault(workers[index] if index < len(workers) else 0, []).append(rank)
    said_yes = set()
    for share in shares.values():
        rng.shuffle(share)
        newest: list[tuple[object, ...]] = []
        said_yes.update(rank for rank in share if among_newest(newest, rank, size))
        assert newest == sorted(share)[:size]
    assert set(sorted(ranks)[:size]) <= said_yes


def _grouped_one_by_one(articles):  # group_tags as first written: the reference
    from collections import Counter, defaultdict

    from sitegen.anchoring import slugify
    from sitegen.site import Tag

    spellings: dict = defaultdict(Counter)
    members: dict = defaultdict(list)
    for article in articles:
        named = [(slugify(tag), tag) for tag in article.tags]
        for slug in dict.fromkeys(slug for slug, _ in named):
            members[slug].append(article)
        for slug, tag in named:
            spellings[slug][tag] += 1
    return [Tag(slug, min(spellings[slug].items(), key=lambda item: (-item[1], item[0]))[0],
                tuple(members[slug])) for slug in sorted(members)]


@given(st.lists(st.lists(st.sampled_from(["Census", "census", " Census", "CENSUS", "Arms Control",
                                          "arms  control", "Fisheries", "fish", "Fish", "x"]), max_size=4),
                max_size=12))
def test_tags_are_grouped_as_counted_one_article_at_a_time(tag_lists):
    from sitegen.model import Listing
    from sitegen.site import group_tags

    articles = [Listing(f"a{index}", "T", None, "", 0, tuple(tags)) for index, tags in enumerate(tag_lists)]
    assert group_tags(articles) == _grouped_one_by_one(articles)

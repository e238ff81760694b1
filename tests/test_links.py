"""The link checker: every internal URL of every page resolves, as a browser would, to a file and an id."""

from pathlib import Path

from sitegen.build import Options, build_from_files, read_sources
from sitegen.links import ABOVE_BASE, ROOT_ABSOLUTE, BrokenLink, check_links, srcset_urls

REPO = Path(__file__).resolve().parent.parent


def page(body: str) -> bytes:
    return f"<!doctype html>\n<html><head><title>t</title></head><body>{body}</body></html>\n".encode()


def test_relative_link_to_an_existing_page_is_fine():
    files = {"index.html": page('<a href="a/index.html">A</a>'),
             "a/index.html": page('<a href="../index.html">home</a>')}
    assert check_links(files) == []


def test_link_to_a_missing_page_names_the_file_it_looked_for():
    files = {"index.html": page(""), "a/index.html": page('<a href="../missing/">x</a>')}
    reason = "no such file: missing/index.html"
    assert check_links(files) == [BrokenLink("a/index.html", "../missing/", reason)]


def test_fragment_must_be_an_id_of_the_target_page():
    files = {
        "a/index.html": page('<a href="../b/index.html#note-x">1</a> <a href="#here">2</a>'
                             '<a href="#gone">3</a> <p id="here">'),
        "b/index.html": page('<p id="note-y">'),
    }
    assert check_links(files) == [
        BrokenLink("a/index.html", "../b/index.html#note-x", "no id 'note-x' in b/index.html"),
        BrokenLink("a/index.html", "#gone", "no id 'gone' in a/index.html"),
    ]


def test_fragment_may_name_any_element_id_or_an_a_name():
    files = {
        "a/index.html": page('<a href="../b/#note-x">1</a> <a href="../b/#old">2</a>'),
        "b/index.html": page('<li><span id="note-x">x</span></li> <a name="old"></a>'),
    }
    assert check_links(files) == []


def test_folder_link_is_served_by_its_index_html_with_or_without_the_slash():
    files = {"a/index.html": page('<a href="../b/">B</a> <a href="../b">B</a> <a href="..">home</a>'),
             "b/index.html": page(""), "index.html": page("")}
    assert check_links(files) == []


def test_link_climbing_above_the_base_path_is_broken():
    files = {"a/index.html": page('<a href="../../other/index.html">x</a>'), "other/index.html": page("")}
    assert check_links(files, "/repo/") == [BrokenLink("a/index.html", "../../other/index.html", ABOVE_BASE)]
    assert ABOVE_BASE == "points outside the site (above the base path)"


def test_root_absolute_link_is_flagged_even_when_the_file_exists():
    files = {"index.html": page('<link rel="stylesheet" href="/assets/style.css">'), "assets/style.css": b""}
    assert check_links(files) == [BrokenLink("index.html", "/assets/style.css", ROOT_ABSOLUTE)]
    assert ROOT_ABSOLUTE == "root-absolute link: breaks under a base path; use a relative URL"


def test_whitespace_around_a_url_is_ignored_as_browsers_do():
    files = {"index.html": page('<a href=" /index.html ">home</a><a href="\n#gone">x</a>')}
    assert check_links(files) == [BrokenLink("index.html", " /index.html ", ROOT_ABSOLUTE),
                                  BrokenLink("index.html", "\n#gone", "no id 'gone' in index.html")]


def test_404_page_links_start_with_the_base_path_and_must_stay_under_it():
    body = ('<link href="/repo/assets/style.css"> <a href="/repo/">home</a> <a href="/assets/x.css">x</a>'
            '<a href="/repo/missing.html">m</a>')
    files = {"404.html": page(body), "index.html": page(""), "assets/style.css": b""}
    assert check_links(files, "/repo/") == [
        BrokenLink("404.html", "/assets/x.css", ABOVE_BASE),
        BrokenLink("404.html", "/repo/missing.html", "no such file: missing.html"),
    ]


def test_every_srcset_candidate_is_checked():
    files = {"a/index.html": page('<img src="p.png" srcset="p.png 1x, big.png 2x">'), "a/p.png": b""}
    assert check_links(files) == [BrokenLink("a/index.html", "big.png", "no such file: a/big.png")]


def test_srcset_comma_ends_a_candidate_only_after_its_url_as_browsers_read_it():
    data = "data:image/png;base64,AA=="
    assert list(srcset_urls(f"{data} 1x,b.png 2x")) == [data, "b.png"]
    assert list(srcset_urls(" a.png, b.png 480w ,c.png,")) == ["a.png", "b.png", "c.png"]


def test_every_url_attribute_is_checked_in_order_of_appearance():
    body = ('<script src="s.js"></script><iframe src="f.html"></iframe><video src="v.mp4" poster="p.jpg">'
            '<source src="v.webm"><track src="t.vtt"></video><audio src="a.ogg"></audio><embed src="e.swf">'
            '<object data="o.svg"></object><map><area href="r.html"></map><div src="not-a-url.html"></div>')
    missing = ["s.js", "f.html", "v.mp4", "p.jpg", "v.webm", "t.vtt", "a.ogg", "e.swf", "o.svg", "r.html"]
    assert check_links({"index.html": page(body)}) == [
        BrokenLink("index.html", href, f"no such file: {href}") for href in missing]


def test_external_links_are_not_followed():
    hrefs = ["https://example.org/x", "http://example.org/", "mailto:a@example.org", "tel:+100",
             "data:text/plain,hi", "javascript:void(0)", "//cdn.example.org/x.js", "", "   "]
    body = "".join(f'<a href="{href}">x</a>' for href in hrefs) + "<a>no href</a>"
    assert check_links({"index.html": page(body)}) == []


def test_top_of_page_and_text_fragments_need_no_id():
    body = ('<a href="#">1</a><a href="#top">2</a><a href="#:~:text=war">3</a><a href="#n:~:text=war">4</a>'
            '<a href="#gone:~:text=war">5</a><p id="n">')
    assert check_links({"index.html": page(body)}) == [
        BrokenLink("index.html", "#gone:~:text=war", "no id 'gone' in index.html")]


def test_fragments_of_non_html_files_are_not_checked():
    files = {"a/index.html": page('<a href="annotations.json#x">notes</a>'), "a/annotations.json": b"{}"}
    assert check_links(files) == []


def test_percent_encoded_paths_and_fragments_are_decoded():
    body = '<a href="tags/caf%C3%A9/">1</a><a href="a%20b.html#caf%C3%A9">2</a><a href="caf%C3%A9.html">3</a>'
    files = {"index.html": page(body), "tags/café/index.html": page(""), "a b.html": page('<p id="café">')}
    assert check_links(files) == [BrokenLink("index.html", "caf%C3%A9.html", "no such file: café.html")]


def test_href_is_reported_with_entities_decoded_and_its_query_ignored():
    body = '<a href="a.html?x=1&amp;y=2">1</a><a href="gone.html?x=1&amp;y=2">2</a>'
    files = {"index.html": page(body), "a.html": page("")}
    assert check_links(files) == [BrokenLink("index.html", "gone.html?x=1&y=2", "no such file: gone.html")]


def test_each_link_is_reported_once_per_page_and_pages_in_path_order():
    files = {"b.html": page('<a href="x.html">1</a><a href="y.html">2</a><a href="x.html">3</a>'),
             "a.html": page('<a href="x.html">')}
    assert [(link.page, link.href) for link in check_links(files)] == [
        ("a.html", "x.html"), ("b.html", "x.html"), ("b.html", "y.html")]


def test_broken_link_names_the_source_file_that_made_the_page():
    files = {"a/index.html": page('<a href="../x/index.html">x</a>'),
             "b/index.html": page('<a href="y.html">y</a>')}
    broken = check_links(files, sources={"a/index.html": "content/a.md"})
    assert [link.source for link in broken] == ["content/a.md", ""]
    assert broken[0].line() == 'public/a/index.html: broken link "../x/index.html" (from content/a.md)'
    assert broken[1].line("out") == 'out/b/index.html: broken link "y.html"'


def test_sample_site_has_no_broken_links():
    site, problems = build_from_files(read_sources(REPO), Options())
    assert site is not None, [str(problem) for problem in problems]
    assert check_links(site.files, "/sitegen/") == []

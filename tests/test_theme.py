"""Compiled templates are kept between processes: the theme's own beside the package, a site's
own in its cache folder; a folder that cannot hold them only costs a compile."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from sitegen import theme
from sitegen.theme import Theme


def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates compiled from here on."""
    compiled: list[str] = []
    compile_source = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):  # type: ignore[no-untyped-def]
        compiled.append(name)
        return compile_source(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return compiled


def test_the_package_templates_are_compiled_once_for_every_site(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(theme, "OWN_COMPILED", tmp_path / "own")
    compiled = compiles(monkeypatch)
    own = {"footer.html": "<footer>{{ root }}</footer>\n"}
    assert Theme(own, tmp_path / "site-a").check() == []
    assert "article.html" in compiled and "footer.html" in compiled
    compiled.clear()
    assert Theme(own, tmp_path / "site-b").check() == []
    assert compiled == ["footer.html"]  # a site's own template: its own cache folder
    compiled.clear()
    assert Theme(own, tmp_path / "site-b").check() == []
    assert Theme({}, None).check() == []  # the default theme alone: written without templates
    assert compiled == []
    assert list((tmp_path / "own").glob("*"))
    assert len(list((tmp_path / "site-b").glob("*"))) == 1


def test_a_changed_template_text_is_compiled_anew(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(theme, "OWN_COMPILED", tmp_path / "own")
    Theme({"footer.html": "<footer>a</footer>\n"}, tmp_path / "site").check()
    changed = Theme({"footer.html": "<footer>b</footer>\n"}, tmp_path / "site")
    assert changed.render("footer.html", "index.html", {}, {}) == "<footer>b</footer>\n"


def test_folders_that_cannot_hold_compiled_templates_only_cost_a_compile(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setattr(theme, "OWN_COMPILED", blocked / "own")
    own = {"404.html": '{% extends "base.html" %}{% block main %}gone{% endblock %}'}
    for _ in range(2):
        page = Theme(own, blocked / "site").render("404.html", "404.html", {"config": _config()}, {})
        assert "<html" in page and "gone" in page


def test_damaged_compiled_templates_are_compiled_anew(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(theme, "OWN_COMPILED", tmp_path / "own")
    own = {"footer.html": "<footer>{{ root }}</footer>\n"}
    Theme(own, None).check()
    for kept in (tmp_path / "own").iterdir():
        kept.write_bytes(kept.read_bytes()[:40] + b"\x00garbage")
    compiled = compiles(monkeypatch)
    assert Theme(own, None).check() == []
    assert "article.html" in compiled


def _config():  # type: ignore[no-untyped-def]
    from sitegen.build import site_config

    return site_config({"sitegen.toml": b'title = "T"\nbase_url = "https://example.org/"\n'})


def test_the_default_article_page_is_rendered_without_importing_jinja(tmp_path: Path):
    """Most warm builds render one article page and nothing else: no template, so no Jinja."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from tests.test_thememarkup import example\n"
            "from sitegen.theme import Theme\n"
            "site, data = example()\n"
            "page = Theme({}).render('article.html', 'a/index.html', site, data)\n"
            "print('<article' in page, 'jinja2' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).parent.parent)
    assert shown.stdout.split() == ["True", "False"]


def test_the_shipped_highlight_stylesheet_is_the_one_pygments_makes():
    """One stylesheet ships, named for the Pygments version that made it. While that version is
    installed a build takes it as it is, so it must be byte for byte what Pygments makes. After
    an upgrade of Pygments, write markdown.pygments_css() to theme/pygments-VERSION.css for the
    new version (without newline translation) and delete the old one."""
    import pygments

    from sitegen.markdown import pygments_css

    shipped = sorted(theme.THEME.glob("pygments-*.css"))
    assert len(shipped) == 1, shipped
    made = pygments_css().encode()
    assert theme.highlight_css() == made  # shipped for this version, or made
    if shipped[0].name != f"pygments-{pygments.__version__}.css":
        pytest.skip(f"{shipped[0].name} is for another Pygments than {pygments.__version__}: made instead")
    assert shipped[0].read_bytes() == made


def test_without_a_stylesheet_for_the_installed_pygments_the_build_makes_one(monkeypatch: pytest.MonkeyPatch):
    import pygments

    from sitegen.markdown import pygments_css

    made: list[str] = []

    def making() -> str:  # the shipped file holds the same bytes: count that it was made instead
        made.append(pygments_css())
        return made[-1]

    theme.highlight_css.cache_clear()
    monkeypatch.setattr(pygments, "__version__", "0.0.0")
    monkeypatch.setattr(theme, "pygments_css", making)
    try:
        assert theme.highlight_css() == pygments_css().encode()
        assert b"pre.highlight" in theme.highlight_css()
        assert len(made) == 1  # made once, then kept
    finally:
        theme.highlight_css.cache_clear()

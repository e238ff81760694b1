"""The Jinja theme: the package's default templates, overridden file by file by a site's own.

A site's templates come in as text (read by build); only the package's own theme is read here.
Pages whose templates a site keeps are written by thememarkup, without templates; Jinja is
imported when a template is first compiled or rendered, so a site without templates of its own
never imports it (25 ms).
"""

from __future__ import annotations

from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .markdown import pygments_css
from .model import Location, Problem
from .thememarkup import WRITERS, article_items, citation_items, human_date

if TYPE_CHECKING:
    import jinja2

# A folder of the installed package (pip never installs it zipped): pathlib, not
# importlib.resources, whose import alone costs a build 20 ms.
THEME = Path(__file__).parent / "theme"
# The package's own templates, compiled, beside them: as Python keeps a package's compiled
# modules in __pycache__, so that no site's first build compiles them (0.1 s).
OWN_COMPILED = THEME / "__pycache__"
# The template data that holds HTML, rendered and escaped by sitegen.
SAFE_HTML = frozenset({"body", "preface", "note.html", "sidenotes", "endnotes", "json_ld"})


def _default_templates() -> dict[str, str]:
    folder = THEME / "templates"
    return {item.name: item.read_text("utf-8") for item in folder.iterdir() if item.is_file()}


def _source(sources: dict[str, str], name: str) -> tuple[str, str, Any] | None:
    # The name doubles as the file name, so a runtime error's traceback carries template lines.
    return (sources[name], name, lambda: True) if name in sources else None


class TemplateRenderError(Exception):
    """A template failed while rendering: a user's problem when the template is theirs."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class Theme:
    """Templates compiled once per build; `render` fills one in for the page at `path`."""

    def __init__(self, overrides: dict[str, str], compiled: Path | None = None) -> None:
        """`compiled`: a folder to keep compiled templates in, so that the next process that
        needs a template whose text is unchanged loads it instead of compiling it."""
        self.overrides = overrides
        self.sources = {**_default_templates(), **overrides}
        self.names = sorted(self.sources)
        self.compiled = compiled
        # The pages thememarkup writes for this site: those whose templates it keeps as they are.
        self.writers = {name: writer for name, writer in WRITERS.items()
                        if not writer.templates & overrides.keys()}
        self.own_article_page = "article.html" in self.writers

    def without_jinja(self, name: str) -> bool:
        """Whether the page of template `name` is written without any template: by its writer,
        with no footer.html of the site's own to put in (as base.html includes it)."""
        writer = self.writers.get(name)
        if writer is None:
            return False
        return "base.html" not in writer.templates or "footer.html" not in self.overrides

    @cached_property
    def environment(self) -> jinja2.Environment:
        import jinja2

        from .templating import CompiledTemplates

        sources = self.sources
        environment = jinja2.Environment(
            bytecode_cache=CompiledTemplates(self.compiled, OWN_COMPILED, frozenset(self.overrides)),
            loader=jinja2.FunctionLoader(lambda name: _source(sources, name)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        environment.filters["human_date"] = human_date
        environment.globals.update(article_items=article_items, citation_items=citation_items)
        return environment

    def check(self) -> list[Problem]:
        """Compile every template now, so a syntax error is reported with its file and line;
        warn where a site's own template turns escaping off for anything but sitegen's HTML."""
        if not self.overrides:
            return []  # the default theme's templates: compiled and tested with the package
        import jinja2

        problems = []
        for name in self.names:
            try:
                self.environment.get_template(name)
            except jinja2.TemplateSyntaxError as error:
                where = self._where(name, error.lineno)
                problems.append(Problem(where, f"template syntax error: {error.message}",
                                        "fix the template, or delete it to use the default"))
                continue
            if name in self.overrides:
                problems += self._unescaped(name)
        return problems

    def _unescaped(self, name: str) -> list[Problem]:
        from .templating import unescaped

        found = unescaped(self.environment.parse(self.overrides[name]), SAFE_HTML)
        hint = f"remove it: only {', '.join(sorted(SAFE_HTML))} hold HTML that sitegen made safe"
        return [Problem(self._where(name, line), f"{what}: text holding '<' would become markup", hint,
                        "warning") for line, what in found]

    def render(self, name: str, path: str, site: dict[str, Any], data: dict[str, Any],
               root: str | None = None) -> str:
        prefix = "../" * path.count("/") if root is None else root
        if self.without_jinja(name):
            return self.writers[name].write(site, prefix, data, None)
        import jinja2

        def fill(template: str) -> str:
            return self.environment.get_template(template).render(site=site, path=path, root=prefix, **data)

        try:
            if name in self.writers:  # the site's own footer.html, as base.html includes it: every variable
                return self.writers[name].write(site, prefix, data, fill("footer.html"))
            return fill(name)
        except jinja2.TemplateError as error:
            raise TemplateRenderError(self._runtime_problem(name, error)) from error

    def render_page(self, name: str, path: str, site: dict[str, Any], data: dict[str, Any],
                    root: str | None = None, key: Any = None) -> bytes:
        """The page as bytes; `key` is for wrappers that reuse pages (see site.ReuseTheme)."""
        return self.render(name, path, site, data, root).encode("utf-8")

    def _runtime_problem(self, name: str, error: jinja2.TemplateError) -> Problem:
        culprit, line = name, 0
        trace = error.__traceback__
        while trace is not None:
            filename = trace.tb_frame.f_code.co_filename
            if filename in self.names:
                culprit, line = filename, trace.tb_lineno
            trace = trace.tb_next
        return Problem(self._where(culprit, line), f"template error: {error}",
                       "every variable a template uses must exist; see the default theme's templates")

    def _where(self, name: str, line: int | None) -> Location:
        prefix = "templates/" if name in self.overrides else "sitegen/theme/templates/"
        return Location(prefix + name, line or 0)

    @staticmethod
    @cache
    def asset(name: str) -> bytes:
        return (THEME / "assets" / name).read_bytes()


@cache
def highlight_css() -> bytes:
    """assets/pygments.css, the colours of highlighted code: as shipped for the installed
    Pygments, when the package holds the one that version makes (theme/pygments-VERSION.css;
    tests/test_theme.py holds them equal), else made by Pygments, whose formatter and styles
    cost a first build 10 ms to import and run."""
    import pygments  # its __init__ alone: no formatter, no style

    try:
        return (THEME / f"pygments-{pygments.__version__}.css").read_bytes()
    except FileNotFoundError:
        return pygments_css().encode()

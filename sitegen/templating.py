"""What the theme needs Jinja itself for: keeping compiled templates between processes, and
finding where a site's own template turns escaping off. Imported by theme only when a template
is compiled or rendered, as Jinja is.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from pathlib import Path

import jinja2
from jinja2 import nodes
from jinja2.bccache import Bucket


class CompiledTemplates(jinja2.BytecodeCache):
    """Where compiled templates are kept between processes: the package's in `own_folder`, a
    site's own in `site_folder` (when given). Jinja checks each against its template's text and
    its own version. A folder that cannot be read or written is only not used: its templates
    are then compiled by each process, as they would be without it."""

    def __init__(self, site_folder: Path | None, own_folder: Path, overrides: frozenset[str]) -> None:
        self.site = jinja2.FileSystemBytecodeCache(str(site_folder)) if site_folder else None
        self.own = jinja2.FileSystemBytecodeCache(str(own_folder))
        self.overrides = overrides
        self.kept_in: dict[str, jinja2.FileSystemBytecodeCache | None] = {}  # bucket key -> cache

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None,
                   source: str) -> Bucket:
        cache = self.site if name in self.overrides else self.own
        bucket = Bucket(environment, self.get_cache_key(name, filename), self.get_source_checksum(source))
        self.kept_in[bucket.key] = cache
        if cache is not None:
            try:
                cache.load_bytecode(bucket)
            except (OSError, EOFError, ValueError, pickle.UnpicklingError):  # unreadable, damaged
                bucket.reset()
        return bucket

    def set_bucket(self, bucket: Bucket) -> None:
        cache = self.kept_in.get(bucket.key)
        if cache is None:
            return
        with contextlib.suppress(OSError):  # a read-only installation, say
            os.makedirs(cache.directory, exist_ok=True)
            cache.dump_bytecode(bucket)


def unescaped(tree: nodes.Template, safe: frozenset[str]) -> list[tuple[int, str]]:
    """(line, what) for each place a template turns escaping off: `|safe` on anything but the
    values named in `safe` (and the template's own constants), or `autoescape false`."""
    found = [(node.lineno, f"|safe turns escaping off for {_dotted(node.node) or 'this value'}")
             for node in tree.find_all(nodes.Filter)
             if node.name == "safe" and _dotted(node.node) not in safe
             and not isinstance(node.node, nodes.Const)]  # the template's own markup
    found += [(node.lineno, "autoescape false turns escaping off")
              for node in tree.find_all(nodes.ScopedEvalContextModifier)
              for option in node.options
              if option.key == "autoescape" and not _is_true(option.value)]
    return found


def _dotted(node: nodes.Node) -> str:
    """`note.html` for the expression note.html; '' for anything but names and attributes."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        inner = _dotted(node.node)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _is_true(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Const) and node.value is True

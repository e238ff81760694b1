"""Start a new site in a folder (`sitegen init`): settings, the Pages workflow, one annotated article.

Writes only files that do not exist yet: an existing file is left as it is and reported as skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import quote

from . import __version__

STARTER = files("sitegen") / "starter"
# Package-data globs skip dot files, and the config is a template to fill in.
RENAMED = {
    "gitignore": ".gitignore",
    "pages.yml": ".github/workflows/pages.yml",
    "sitegen.toml.in": "sitegen.toml",
    "pyproject.toml.in": "pyproject.toml",
}


def init_site(target: Path) -> tuple[list[Path], list[Path]]:
    """Write the starter site into target, creating it; return (written, skipped)."""
    target.mkdir(parents=True, exist_ok=True)
    written, skipped = [], []
    for name, data in starter_files(target.resolve().name).items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("xb") as file:
                file.write(data)
        except FileExistsError:
            skipped.append(path)
        else:
            written.append(path)
    return written, skipped


def starter_files(folder_name: str) -> dict[str, bytes]:
    """The starter site by path in the new site, its config filled in for a folder of that name."""
    site = {RENAMED.get(name, name): resource.read_bytes() for name, resource in _walk(STARTER)}
    site["sitegen.toml"] = site_config(site["sitegen.toml"].decode("utf-8"), folder_name).encode("utf-8")
    site["pyproject.toml"] = project(site["pyproject.toml"].decode("utf-8"), folder_name).encode("utf-8")
    return site


def site_config(template: str, folder_name: str) -> str:
    """`mysite` -> title "Mysite", base_url "https://example.github.io/mysite/"."""
    words = re.sub(r"[-_\s]+", " ", folder_name).strip() or "my site"
    title = words[0].upper() + words[1:]
    base_url = f"https://example.github.io/{quote(folder_name or 'site')}/"
    # A JSON string is a valid TOML basic string, quotes and backslashes escaped.
    return (template.replace("{title}", json.dumps(title, ensure_ascii=False))
            .replace("{base_url}", json.dumps(base_url)))


def project(template: str, folder_name: str) -> str:
    """The site's pyproject.toml: a project named after the folder that depends on this sitegen."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", folder_name).strip("-").lower() or "site"
    requirement = f"sitegen>={__version__}"
    return (template.replace("{name}", json.dumps(f"{name}-site"))
            .replace("{requirement}", json.dumps(requirement)))


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        else:
            yield prefix + entry.name, entry

"""Read the site config: sitegen.toml, or [tool.sitegen] in pyproject.toml.

Pure: takes the files' text, returns a Config and Problems.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from .frontmatter import is_web_address, toml_error
from .model import Config, Location, Problem, closest
from .seeds import NOT_TEXT

KEYS = ("title", "base_url", "description", "language", "author", "cname")
# Compiled where first used (by re's own cache): few sites set a cname, and its 0.5 ms to compile
# would be paid at every start.
DOMAIN = r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"


def is_domain(text: str) -> bool:
    return re.fullmatch(DOMAIN, text, re.IGNORECASE) is not None
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def parse_config(files: dict[str, str], base_url: str | None = None) -> tuple[Config, list[Problem]]:
    if "sitegen.toml" in files:
        path, section = "sitegen.toml", None
    elif "pyproject.toml" in files:
        path, section = "pyproject.toml", "sitegen"
    else:
        return _finish(Config(), {}, "sitegen.toml", "", base_url)
    text = files[path]
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        reason, line, column = toml_error(error)
        where = Location(path, line, column) if line else Location(path, 1, 1)
        return Config(where=path), [Problem(where, f"malformed TOML: {reason}",
                                            'strings need quotes: title = "My site"')]
    if section:
        data = data.get("tool", {}).get(section, {})
    return _finish(Config(where=path), data, path, text, base_url)


def _finish(default: Config, data: dict[str, Any], path: str, text: str,
            base_url: str | None) -> tuple[Config, list[Problem]]:
    problems = []
    values = {}
    for key, value in data.items():
        where = _key_location(path, text, key)
        if key not in KEYS:
            close = closest(key, KEYS)
            hint = f"did you mean '{close}'?" if close else "known keys: " + ", ".join(KEYS)
            problems.append(Problem(where, f"unknown config key '{key}'", hint, "warning"))
        elif not isinstance(value, str):
            problems.append(Problem(where, f"config key '{key}' must be a string",
                                    f'write {key} = "..."'))
        elif found := NOT_TEXT.search(value):
            problems.append(Problem(where, f"config key '{key}' holds U+{ord(found[0]):04X}, which a "
                                    "web page cannot hold",
                                    "delete that character, or the escape that writes it"))
        else:
            values[key] = value.strip()
    if base_url is not None:
        values["base_url"] = base_url
    url = values.get("base_url", "")
    if url:
        if not is_web_address(url):
            where = _key_location(path, text, "base_url") if base_url is None else Location("--base-url")
            problems.append(Problem(where, f"base_url must be an absolute http(s) URL, not {url!r}",
                                    'write base_url = "https://user.github.io/repo/"'))
            values["base_url"] = ""
        elif not url.endswith("/"):
            values["base_url"] = url + "/"
    cname = values.get("cname", "")
    if cname and not is_domain(cname):
        problems.append(Problem(_key_location(path, text, "cname"),
                                f"cname {cname!r} is not a domain name",
                                'write the bare domain, e.g. cname = "news.example.org"'))
        values["cname"] = ""
    language = values.get("language", "en")
    if not LANGUAGE.fullmatch(language):
        problems.append(Problem(_key_location(path, text, "language"),
                                f"language {language!r} is not a language tag", 'e.g. "en" or "pt-BR"'))
        values["language"] = "en"
    return default._replace(**values), problems


def _key_location(path: str, text: str, key: str) -> Location:
    for number, line in enumerate(text.split("\n"), start=1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return Location(path, number, 1)
    return Location(path)

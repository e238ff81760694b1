"""Split a content file into front matter (YAML between ---, TOML between +++) and body.

Pure. Every value comes back with the line it was written on, so field errors point at it.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from .model import Location, Problem, closest
from .seeds import NOT_TEXT

if TYPE_CHECKING:
    import yaml

QUOTE_HINT = "quote the value"
TOML_KEY = re.compile(r"\s*[\"']?([A-Za-z0-9_-]+)[\"']?\s*=")


class Field(NamedTuple):
    value: Any
    where: Location
    raw: str = ""  # the value as written, for messages: YAML reads `No` as false


class Document(NamedTuple):
    fields: dict[str, Field]
    body: str
    body_line: int  # 1-based line of the file where the body starts


def split_document(path: str, text: str) -> tuple[Document | None, list[Problem]]:
    """The front matter's fields and the body after it. The lines are looked at one by one up
    to the closing one; the body is never split into lines here."""
    first_end = text.find("\n")
    opener = (text if first_end < 0 else text[:first_end]).rstrip()
    if opener not in ("---", "+++"):
        hint = "start the file with a line '---', then fields such as 'seed:' and 'title:', then '---'"
        return None, [Problem(Location(path, 1, 1), "missing front matter", hint)]
    if first_end < 0:
        return None, [_never_closed(path, opener)]
    start = line_start = first_end + 1
    index = 1  # of the line at line_start, counting the opener as 0
    while True:
        line_end = text.find("\n", line_start)
        closer = (text[line_start:] if line_end < 0 else text[line_start:line_end]).rstrip()
        if closer == opener:
            break
        if closer in ("---", "+++"):
            message = f"front matter opened with '{opener}' on line 1 is closed with '{closer}'"
            return None, [Problem(Location(path, index + 1, 1), message, f"close it with '{opener}'")]
        if line_end < 0:
            return None, [_never_closed(path, opener)]
        line_start, index = line_end + 1, index + 1
    source = text[start : line_start - 1] if index > 1 else ""
    parse = _parse_yaml if opener == "---" else _parse_toml
    fields, problems = parse(path, source)
    if fields is None:  # unreadable: reporting its fields as missing would only add noise
        return None, problems
    body = text[line_end + 1 :] if line_end >= 0 else ""
    return Document(fields, body, index + 2), problems


def _never_closed(path: str, opener: str) -> Problem:
    message = f"front matter opened with '{opener}' on line 1 is never closed"
    return Problem(Location(path, 1, 1), message, f"add a line '{opener}' after the last field")


def yaml_loader() -> type[yaml.SafeLoader]:
    """libyaml's parser when PyYAML was built with it (PyPI wheels are): the same YAML, ten times
    faster. PyYAML is imported only for front matter the plain reading leaves to it (16 ms)."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[no-any-return]


def _mark_location(path: str, source: str, mark: yaml.Mark) -> Location:
    """Where a YAML mark is, in lines of the file: YAML also breaks lines at \r, U+0085, U+2028
    and U+2029, which are not line breaks to an editor. The front matter starts on line 2."""
    index = min(mark.index, len(source))
    line_start = source.rfind("\n", 0, index) + 1
    return Location(path, source.count("\n", 0, index) + 2, index - line_start + 1)


def _parse_yaml(path: str, source: str) -> tuple[dict[str, Field] | None, list[Problem]]:
    quick = plain_yaml_fields(path, source)
    if quick is not None:
        return quick, []
    import yaml

    loader = yaml_loader()(source)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = _mark_location(path, source, mark) if mark else Location(path, 2, 1)
        reason = getattr(error, "problem", None) or str(error)
        return None, [Problem(where, f"malformed YAML front matter: {reason}",
                            "check the indentation and quote values that contain ':' or '#'")]
    finally:
        loader.dispose()
    if node is None:
        return {}, []
    if not isinstance(node, yaml.MappingNode):
        return None, [Problem(Location(path, 2, 1), "front matter must be a list of 'key: value' lines")]
    fields: dict[str, Field] = {}
    problems = []
    for key_node, value_node in node.value:
        where = _mark_location(path, source, key_node.start_mark)
        key = key_node.value
        if key in fields:
            problems.append(Problem(where, f"duplicate field '{key}' (first set on line "
                                    f"{fields[key].where.line})", "keep one of them"))
            continue
        try:
            value = loader.construct_object(value_node, deep=True)
        except (ValueError, yaml.YAMLError) as error:
            problems.append(Problem(where, f"invalid value for field '{key}': {error}", QUOTE_HINT))
            continue
        raw = value_node.value if isinstance(value_node, yaml.ScalarNode) else ""
        fields[key] = Field(value, where, raw)
    return fields, problems


# The front matter most files have, read line by line at a fifth of libyaml's cost: `key: value`
# lines at the margin whose values are a plain word or phrase, a string in quotes without
# escapes, or a [list] of those. Anything else (and any doubt) goes to libyaml.
PLAIN_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: +(.*))?")
PLAIN_SCALAR = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.,;!?()/&+'-]*")  # no ':', '#', flow or escapes
QUOTED = re.compile(r'"([^"\\]*)"|\'([^\']*)\'')
LIST_ITEM = re.compile(r'\s*(?:"([^"\\]*)"|\'([^\']*)\'|([A-Za-z0-9][A-Za-z0-9 _.;!?()/&+\'-]*?))\s*(?:,|$)')
# Characters libyaml takes for line breaks or BOMs, or refuses: left to it to say so.
YAML_SPECIAL = re.compile("[\x85\u2028\u2029\ufeff\ufffe\uffff\t\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain_yaml_fields(path: str, source: str) -> dict[str, Field] | None:
    """The fields as _parse_yaml reads them, where every line is of the plain kind; else None."""
    if YAML_SPECIAL.search(source):
        return None
    fields: dict[str, Field] = {}
    for number, line in enumerate(source.split("\n"), start=2):
        line = line.rstrip(" ")
        if not line:
            continue
        found = PLAIN_LINE.fullmatch(line)
        if found is None or found[1] in fields:
            return None
        value = _plain_value(found[2] or "")
        if value is None:
            return None
        fields[found[1]] = Field(value[0], Location(path, number, 1), value[1])
    return fields


def _plain_value(text: str) -> tuple[Any, str] | None:
    """(value, raw) of a plain value as YAML reads it (a string, a list of strings, or a flag),
    or None when in any doubt."""
    quoted = QUOTED.fullmatch(text)
    if quoted:
        value = quoted[1] if quoted[1] is not None else quoted[2]
        return value, value
    if text.startswith("[") and text.endswith("]"):
        items = _plain_list(text[1:-1])
        return None if items is None else (items, "")
    if PLAIN_SCALAR.fullmatch(text):
        value = _plain_scalar(text)
        return None if value is None else (value, text)
    return None


def _plain_list(inside: str) -> list[str] | None:
    items: list[str] = []
    position = 0
    inside = inside.strip(" ")
    while position < len(inside):
        found = LIST_ITEM.match(inside, position)
        if found is None or found.end() == position:
            return None
        if found[3] is not None:
            if not found[3] or not isinstance(_plain_scalar(found[3]), str):
                return None  # an empty item, or one YAML reads as a flag: YAML's business
            items.append(found[3])
        else:
            items.append(found[1] if found[1] is not None else found[2])
        position = found.end()
        if found[0].endswith(",") and position == len(inside):
            return None  # a trailing comma: YAML's business
    return items


# YAML 1.1's implicit types as PyYAML's resolver tells them (yaml/resolver.py), for the plain
# scalars PLAIN_SCALAR admits (first a letter or digit): flags, nulls, then numbers and times,
# which start with a digit. tests/test_frontmatter_plain.py holds them to PyYAML's resolver.
YAML_FLAGS = {"yes": True, "Yes": True, "YES": True, "no": False, "No": False, "NO": False,
              "true": True, "True": True, "TRUE": True, "false": False, "False": False,
              "FALSE": False, "on": True, "On": True, "ON": True, "off": False, "Off": False, "OFF": False}
YAML_NULLS = frozenset({"null", "Null", "NULL"})
YAML_NUMBER_OR_TIME = re.compile(r"""(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]\ -[0-9][0-9]?\ -[0-9][0-9]?
     (?:[Tt]|[\ \t]+)[0-9][0-9]?
     :[0-9][0-9]\ :[0-9][0-9]\ (?:\.[0-9]*)?
     (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)""", re.X)


def _plain_scalar(plain: str) -> str | bool | None:
    """An unquoted scalar as YAML 1.1 reads it, if a string or a flag (draft: true); None for
    anything else it resolves to (1_000, null, 2023-06-21...)."""
    flag = YAML_FLAGS.get(plain)
    if flag is not None:
        return flag
    if plain in YAML_NULLS or (plain[:1].isdigit() and YAML_NUMBER_OR_TIME.fullmatch(plain)):
        return None
    return plain


def _parse_toml(path: str, source: str) -> tuple[dict[str, Field] | None, list[Problem]]:
    lines = source.split("\n")
    keys = [(found[1], number) for number, text in enumerate(lines, start=2)
            if (found := TOML_KEY.match(text))]
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        duplicate = _duplicate_key(path, keys)
        if duplicate:  # tomllib only says "Cannot overwrite a value", often with no line
            return None, [duplicate]
        reason, line, column = toml_error(error)
        where = Location(path, line + 1, column) if line else Location(path, 2, 1)
        key = next((key for key, number in keys if number == where.line), None)
        return None, [Problem(where, f"malformed TOML front matter: {reason}"
                              + (f" in field '{key}'" if key else ""),
                              f'{QUOTE_HINT}; strings need quotes in TOML: title = "..."')]
    fields = {}
    for key, value in data.items():
        line = next((number for name, number in keys if name == key), 2)
        fields[key] = Field(value, Location(path, line, 1))
    return fields, []


def _duplicate_key(path: str, keys: list[tuple[str, int]]) -> Problem | None:
    first: dict[str, int] = {}
    for key, line in keys:
        if key in first:
            return Problem(Location(path, line, 1), f"duplicate field '{key}' (first set on line "
                           f"{first[key]})", "keep one of them")
        first[key] = line
    return None


def toml_error(error: tomllib.TOMLDecodeError) -> tuple[str, int, int]:
    """tomllib's message without its position, and the 1-based line and column (0 if none)."""
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", str(error))
    if not found:
        return str(error), 0, 0
    return str(error)[: found.start()], int(found[1]), int(found[2])


def is_web_address(url: str) -> bool:
    """An absolute http(s) URL with a host (urlsplit raises on a stray '[' in the host)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def unknown_fields(fields: dict[str, Field], known: tuple[str, ...]) -> list[Problem]:
    problems = []
    for key, field in fields.items():
        if key not in known:
            close = closest(key, known)
            hint = f"did you mean '{close}'?" if close else "known fields: " + ", ".join(known)
            problems.append(Problem(field.where, f"unknown field '{key}'", hint, "warning"))
    return problems


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if value is None:
        return "empty"
    return "a string"


class FieldReader:
    """Typed access to front-matter fields that records a Problem for each bad one."""

    def __init__(self, path: str, fields: dict[str, Field]) -> None:
        self.path = path
        self.fields = fields
        self.problems: list[Problem] = []

    def _fail(self, key: str, message: str, hint: str = QUOTE_HINT) -> None:
        where = self.fields[key].where if key in self.fields else Location(self.path, 1, 1)
        self.problems.append(Problem(where, message, hint))

    def string(self, key: str, *, required: bool = False) -> str:
        field = self.fields.get(key)
        if field is None or field.value is None or field.value == "":
            if required:
                self._fail(key, f"missing required field '{key}'", f"add a line '{key}: ...'")
            return ""
        if not isinstance(field.value, str):
            shown = field.raw or _yaml_spelling(field.value)
            self._fail(key, f"field '{key}' must be a string, not {type_name(field.value)} ({shown})")
            return ""
        if required and not field.value.strip():
            self._fail(key, f"field '{key}' is empty", f"give '{key}' a value")
        return field.value.strip() if self._is_text(key, field.value) else ""

    def _is_text(self, key: str, value: str) -> bool:
        """False, with a problem, for a value a page cannot hold (written as an escape: "\\u0001")."""
        found = NOT_TEXT.search(value)
        if found:
            self._fail(key, f"field '{key}' holds U+{ord(found[0]):04X}, which a web page cannot hold",
                       "delete that character, or the escape that writes it")
        return not found

    def string_list(self, key: str) -> tuple[str, ...]:
        field = self.fields.get(key)
        if field is None or field.value is None:
            return ()
        value = field.value
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self._fail(key, f"field '{key}' must be a list of strings, not {type_name(value)}",
                       f"write {key}: [first, second]")
            return ()
        items = []
        for item in value:
            if not isinstance(item, str):
                self._fail(key, f"field '{key}' holds {type_name(item)} ({_yaml_spelling(item)}), "
                           "not a string")
                continue
            if self._is_text(key, item):
                items.append(item)
        return tuple(items)

    def date(self, key: str) -> dt.date | None:
        field = self.fields.get(key)
        if field is None or field.value is None:
            return None
        value = field.value
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self._fail(key, f"field '{key}' must be a date YYYY-MM-DD, not {_yaml_spelling(value)!r}",
                   "write a real date, e.g. date: 2023-06-21")
        return None

    def boolean(self, key: str) -> bool:
        field = self.fields.get(key)
        if field is None or field.value is None:
            return False
        if not isinstance(field.value, bool):
            self._fail(key, f"field '{key}' must be true or false, not {type_name(field.value)}",
                       f"write {key}: true")
            return False
        return field.value


def _yaml_spelling(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

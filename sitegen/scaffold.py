"""Start new files for the user: an annotation file for a seed (`sitegen new`).

Writes only files that do not exist yet; never touches a seed.
"""

from __future__ import annotations

import json
from pathlib import Path

from .annotations import SLUG
from .model import Location, Problem, Seed, closest
from .seeds import parse_seed, slug_from_name


def annotation_template(seed: Seed, slug: str) -> str:
    """Front matter filled in from the seed, its subheadings listed as a guide (YAML comments)."""
    lines = [
        "---",
        f"seed: {seed.name}",
        f"title: {json.dumps(seed.first_sentence(), ensure_ascii=False)}",
        'summary: ""',
        "tags: []",
        'annotator: ""',
    ]
    if slug != slug_from_name(seed.name):
        lines.append(f"slug: {slug}")
    lines.append("draft: true  # remove this line to publish")
    headings = [block for block in seed.blocks if block.kind == "h2"]
    if headings:
        lines.append("# The article's sections (quote any words of it in a note heading):")
        for block in headings:
            lines.append(f"#   line {seed.line_of(block.start)}: {seed.text[block.start:block.end]}")
    lines += [
        "# Below the closing line: an optional editor's note in Markdown, then one section a note:",
        '#   ## "exact words of the article"',
        "#   The note, in Markdown; cite a context entry with [[its-slug]].",
        "---",
        "",
    ]
    return "\n".join(lines)


def new_annotation(root: Path, seed_name: str, slug: str | None) -> tuple[Path | None, list[Problem]]:
    name = Path(seed_name).name
    seed_path = root / "seeds" / name
    if not seed_path.is_file():
        known = sorted(path.name for path in (root / "seeds").glob("*.txt"))
        close = closest(name, known)
        hint = f"did you mean '{close}'?" if close else "put the article in seeds/ first"
        return None, [Problem(Location(f"seeds/{name}"), "no such seed", hint)]
    seed, problems = parse_seed(f"seeds/{name}", seed_path.read_bytes())
    if seed is None:
        return None, problems
    slug = slug or slug_from_name(name)
    if not SLUG.fullmatch(slug):
        return None, [Problem(Location("--slug"), f"illegal slug {slug!r}",
                              "a slug is lowercase letters, digits and '-'")]
    target = root / "content" / f"{slug}.md"
    if target.exists():
        return None, [Problem(Location(f"content/{slug}.md"), "file exists: not overwriting it",
                              "edit it, or pass --slug to start another annotation of this seed")]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8") as file:
        file.write(annotation_template(seed, slug))
    return target, []

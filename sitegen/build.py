"""Turn a site's source files into the output files: read, parse, anchor, render, assemble.

`build_from_files` is pure (a mapping of relative paths to bytes in, a Site or Problems out);
`read_sources` is the one function here that reads the disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import NamedTuple

from . import status
from .anchoring import anchor_notes, slugify
from .annotations import RESERVED_SLUGS, SLUG, parse_annotation, parse_context_entry
from .config import parse_config
from .memo import NO_MEMO, Memo, Same
from .model import (
    Anchor,
    Annotation,
    Article,
    Config,
    ContextEntry,
    ContextRef,
    Location,
    Problem,
    Seed,
    Site,
    closest,
)
from .parallel import parallel_map
from .progress import NO_PROGRESS, Progress
from .seeds import decode_text, parse_seed, slug_from_name
from .site import Frame, Sink, build_site_reusing, rerender_article
from .stages import NO_STAGES, Stages
from .status import CONFIG_FILES, SourceSignature, is_annotation, is_context_entry, is_seed, read_bytes
from .theme import TemplateRenderError, Theme

PLACEHOLDER_BASE_URL = "http://localhost:8000/"


class Options(NamedTuple):
    base_url: str | None = None
    drafts: bool = False
    jobs: int = 1


DEFAULT_OPTIONS = Options()


class Sources(NamedTuple):
    """The site's files sorted by role, decoded where they are text (see sort_sources)."""

    seeds: dict[str, bytes]
    annotations: dict[str, bytes]
    contexts: dict[str, bytes]
    templates: dict[str, bytes]
    static: dict[str, bytes]
    config: dict[str, bytes]


def read_sources(root: Path, problems: list[Problem] | None = None) -> dict[str, bytes]:
    """Every file under the site's source folders, by path relative to root with '/'.

    A link that leads outside root is never read, and an unreadable file is left out: each goes
    to problems as an error instead."""
    refused = [] if problems is None else problems
    return _read_all(root, scan_sources(root, refused), refused)


def read_folder(root: Path, folder: Path, problems: list[Problem] | None = None) -> dict[str, bytes]:
    """Every file below folder (as read_sources reads them), keyed from root."""
    refused = [] if problems is None else problems
    return _read_all(root, scan_folder(root, folder, refused), refused)


def _read_all(root: Path, paths: Iterable[str], problems: list[Problem]) -> dict[str, bytes]:
    return {path: data for path in paths if (data := read_source(root, path, problems)) is not None}


def scan_sources(root: Path, problems: list[Problem]) -> dict[str, SourceSignature]:
    """The site's source files with their signatures (see status.scan_sources); links out of
    root go to problems as errors."""
    refused: list[tuple[str, str]] = []
    found = status.scan_sources(root, refused)
    problems += refused_problems(refused)
    return found


def scan_folder(root: Path, folder: Path, problems: list[Problem]) -> dict[str, SourceSignature]:
    refused: list[tuple[str, str]] = []
    found = status.scan_folder(root, folder, refused)
    problems += refused_problems(refused)
    return found


def refused_problems(refused: list[tuple[str, str]]) -> list[Problem]:
    return [Problem(Location(path), f"refusing to read a link to {real}, outside the site's folder",
                    "copy the file into the site's folder instead of linking to it")
            for path, real in refused]


def read_source(root: Path, path: str, problems: list[Problem]) -> bytes | None:
    """The file's bytes, or None with an error in problems when it cannot be read."""
    try:
        return read_bytes(f"{root}/{path}")
    except OSError as error:
        problems.append(Problem(Location(path), f"cannot read the file: {error.strerror}",
                                "check that you may read it, or move it out of the site's folders"))
        return None


def inside_root(root: Path, path: Path, problems: list[Problem]) -> bool:
    """False, with an error in problems, when path is a link that leads outside root."""
    real = status.outside_root(root, path)
    if real is not None:
        problems += refused_problems([(path.relative_to(root).as_posix(), real)])
    return real is None


def sort_sources(files: Mapping[str, bytes]) -> Sources:
    sources = Sources({}, {}, {}, {}, {}, {})
    for path, data in sorted(files.items()):
        folder, _, rest = path.partition("/")
        if path in CONFIG_FILES:
            sources.config[path] = data
        elif is_seed(path):
            sources.seeds[path] = data
        elif is_context_entry(path):
            sources.contexts[path] = data
        elif is_annotation(path):
            sources.annotations[path] = data
        elif folder == "templates":
            sources.templates[rest] = data
        elif folder == "static":
            sources.static[rest] = data
    return sources


def build_from_files(files: Mapping[str, bytes], options: Options = DEFAULT_OPTIONS,
                     sink: Sink | None = None, memo: Memo = NO_MEMO,
                     stages: Stages = NO_STAGES,
                     progress: Progress = NO_PROGRESS) -> tuple[Site | None, list[Problem]]:
    """Every stage runs on every file, so one build reports every problem at once.

    Pages go to `sink` as they are rendered when one is given (Site.files is then empty): the
    caller must discard what it received if the result is None. Worker processes call the sink
    too, so it must write where every process sees it (StagedOutput.write does). A Memo kept
    between builds lets a rebuild reuse every step whose inputs did not change. `stages` collects
    the time spent in each stage (render includes writing pages to the sink).
    """
    with stages.time("parse"):
        sources = sort_sources(files)
        problems: list[Problem] = []
        config = read_config(sources, options, problems)
        theme = read_theme(sources, problems, memo)
        seeds = _parse_seeds(sources, problems, memo)
        contexts = {entry.slug: entry for entry in _parse_contexts(sources.contexts, problems, memo)}
    with stages.time("anchor"):
        seed_names = frozenset(path.rsplit("/", 1)[-1] for path in sources.seeds)
        names_key = _fingerprint(*sorted(seed_names))
        all_seeds = memo.get("seeds", tuple(seeds.values()), object) if memo is not NO_MEMO else None
        annotate = partial(_annotate_once, memo, seeds, seed_names, names_key, all_seeds)
        annotated = parallel_map(annotate, list(sources.annotations.items()), options.jobs)
    with stages.time("assemble"):
        articles = _assemble(sources, seeds, annotated, options, problems, memo)
        _check_context_refs([annotation for annotation, _, _ in annotated if annotation], contexts,
                            problems)
    if any(problem.severity == "error" for problem in problems):
        return None, problems
    try:
        with stages.time("render"):
            built = build_site_reusing(articles, contexts, config, theme, sources.static, options.jobs,
                                       sink, memo, progress=progress)
    except TemplateRenderError as failure:
        return None, [*problems, failure.problem]
    origins = {f"{article.slug}/index.html": article.source for article in articles}
    origins |= {f"context/{entry.slug}/index.html": entry.path for entry in contexts.values()}
    snapshot = None
    if memo is not NO_MEMO and built.frame is not None:
        records = dict(zip(sources.annotations, annotated, strict=True))
        on_site = {article.source: article for article in articles if article.annotation}
        snapshot = Snapshot(options, sources, seeds, seed_names, contexts, records, on_site,
                            problems, built.frame)
    site = Site(built.files, articles=len(articles), notes=sum(len(a.anchors) for a in articles),
                contexts=len(contexts), base_path=config.base_path, origins=origins,
                snapshot=snapshot)
    return site, problems


class Snapshot(NamedTuple):
    """A successful build as rebuild_annotations needs it: what it read and what it made."""

    options: Options
    sources: Sources
    seeds: dict[str, Seed]
    seed_names: frozenset[str]
    contexts: dict[str, ContextEntry]
    records: dict[str, Annotated]  # annotation path -> parsed and anchored
    articles: dict[str, Article]  # annotation path -> its article, for those on the site
    problems: list[Problem]  # the build's warnings
    frame: Frame


def rebuild_annotations(snapshot: Snapshot, changed: Mapping[str, bytes]
                        ) -> tuple[dict[str, bytes], list[Problem], Snapshot] | None:
    """The files that change when the annotation files in `changed` (path -> new bytes) are
    edited, the build's warnings and the new snapshot; the same as a whole build would give.

    None when an edit reaches further than the article's own pages and the feed (a new listing,
    a changed citation, a new or removed page, another seed) or has errors: build it all then,
    which also reports the errors in full."""
    records, articles, frame = dict(snapshot.records), dict(snapshot.articles), snapshot.frame
    problems = list(snapshot.problems)
    files: dict[str, bytes] = {}
    for path, data in changed.items():
        old = articles.get(path)
        if path not in snapshot.sources.annotations or old is None:
            return None
        record = annotate(snapshot.seeds, snapshot.seed_names, (path, data))
        annotation, anchors, found = record
        if annotation is None or annotation.seed != old.seed.name or annotation.draft != old.annotation.draft:
            return None
        if any(problem.severity == "error" for problem in found) or _unknown_refs(annotation.refs,
                                                                                snapshot.contexts):
            return None
        article = make_article(annotation, anchors, old.seed, data, snapshot.sources.seeds[old.seed.path])
        done = rerender_article(frame, old, article)
        if done is None:
            return None
        pages, frame = done
        files |= pages
        before = records[path][2]  # a build with errors leaves no snapshot: these are warnings
        problems = [problem for problem in problems if problem not in before] + found
        records[path], articles[path] = record, article
    annotations = {**snapshot.sources.annotations, **changed}
    sources = snapshot.sources._replace(annotations=annotations)
    return files, problems, snapshot._replace(sources=sources, records=records, articles=articles,
                                    problems=problems, frame=frame)


def site_config(files: Mapping[str, bytes]) -> Config:
    """The site's config as written (problems aside), for commands that need it before a build."""
    return read_config(sort_sources(files), DEFAULT_OPTIONS, [])


def read_config(sources: Sources, options: Options, problems: list[Problem]) -> Config:
    texts = {}
    for path, data in sources.config.items():
        text, decode_problems = decode_text(path, data)
        problems += decode_problems
        if text is not None:
            texts[path] = text
    config, config_problems = parse_config(texts, options.base_url)
    problems += config_problems
    if not config.base_url:
        problems.append(Problem(Location(config.where), "base_url is not set: feed.xml and "
                                f"sitemap.xml use {PLACEHOLDER_BASE_URL}",
                                'set base_url = "https://example.org/" in sitegen.toml, '
                                "or pass --base-url", "warning"))
        config = config._replace(base_url=PLACEHOLDER_BASE_URL)
    return config


def read_theme(sources: Sources, problems: list[Problem], memo: Memo, check: bool = True,
                compiled: Path | None = None) -> Theme:
    """The theme with the site's templates; `check` compiles each now to report its problems.
    `compiled`: where compiled templates are kept between processes (see Theme)."""
    overrides = {}
    for name, data in sources.templates.items():
        text, decode_problems = decode_text(f"templates/{name}", data)
        problems += decode_problems
        if text is not None:
            overrides[name] = text

    def compile_theme() -> tuple[Theme, list[Problem]]:
        theme = Theme(overrides, compiled)
        return theme, theme.check() if check else []

    theme, theme_problems = memo.get("theme", (tuple(sorted(overrides.items())), check), compile_theme)
    problems += theme_problems
    return theme


def _parse_seeds(sources: Sources, problems: list[Problem], memo: Memo) -> dict[str, Seed]:
    seeds = {}
    for path, data in sources.seeds.items():
        seed, seed_problems = memo.get("seed", (path, data), partial(parse_seed, path, data))
        problems += seed_problems
        if seed:
            seeds[seed.name] = seed
    return seeds


def _parse_contexts(files: dict[str, bytes], problems: list[Problem], memo: Memo) -> list[ContextEntry]:
    entries = []
    for path, data in files.items():
        entry, entry_problems = memo.get("context", (path, data), partial(parse_context, path, data))
        problems += entry_problems
        if entry is not None:
            entries.append(entry)
    return entries


def parse_context(path: str, data: bytes) -> tuple[ContextEntry | None, list[Problem]]:
    text, problems = decode_text(path, data)
    if text is None:
        return None, problems
    return parse_context_entry(path, text)


Annotated = tuple[Annotation | None, tuple[Anchor, ...], list[Problem]]


def _annotate_once(memo: Memo, seeds: dict[str, Seed], seed_names: frozenset[str], names_key: bytes,
                   all_seeds: object, source: tuple[str, bytes]) -> Annotated:
    """annotate, reused while the file, its seed and the set of seed names are unchanged.

    The seed is guessed from the file's bytes, only to key the memo: when the guess names no
    seed, the key holds every seed instead, so that a wrong guess can never reuse a stale result.
    """
    path, data = source
    seed = seeds.get(declared_seed(data))
    key = (path, data, seed or all_seeds, names_key)
    return memo.get("annotation", key, partial(annotate, seeds, seed_names, source))


def declared_seed(data: bytes) -> str:
    """The seed named on a `seed:` line near the file's start, read cheaply (may be wrong)."""
    start = data.find(b"\nseed", 0, 4096) + 5
    if start == 4:
        return ""
    end = data.find(b"\n", start)
    value = data[start : end if end != -1 else len(data)].strip()
    if value[:1] not in (b":", b"="):
        return ""
    name = value[1:].strip().strip(b"\"'").decode("utf-8", "replace")
    return name.removeprefix("seeds/")


def annotate(seeds: Mapping[str, Seed], seed_names: Collection[str], source: tuple[str, bytes]) -> Annotated:
    """Parse one annotation file and anchor its notes in its seed (drafts too: always checked)."""
    return anchor_annotation(seeds, seed_names, read_annotation(*source))


def read_annotation(path: str, data: bytes) -> tuple[Annotation | None, list[Problem]]:
    """An annotation file's annotation, parsed (the first half of annotate)."""
    text, problems = decode_text(path, data)
    if text is None:
        return None, problems
    return parse_annotation(path, text)


def anchor_annotation(seeds: Mapping[str, Seed], seed_names: Collection[str],
                      parsed: tuple[Annotation | None, list[Problem]]) -> Annotated:
    """A parsed annotation's notes anchored in its seed (the second half of annotate)."""
    annotation, problems = parsed
    seed = seeds.get(annotation.seed) if annotation else None
    if annotation is None or seed is None:
        if annotation and annotation.seed and annotation.seed not in seed_names:
            problems.append(_unknown_seed(annotation, seed_names))
        return annotation, (), problems
    anchors, anchor_problems = anchor_notes(seed, annotation.notes)
    return annotation, anchors, problems + anchor_problems


def _fingerprint(*parts: str | bytes) -> bytes:
    """A digest of the source bytes an article is made from: equal digests, equal articles.
    SHA-256, as status.digest: in hardware, about twice BLAKE2's speed."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.digest()[:16]


def _assemble(sources: Sources, seeds: dict[str, Seed], annotated: list[Annotated],
              options: Options, problems: list[Problem], memo: Memo) -> list[Article]:
    """One article per annotation file (drafts only when asked), then the seeds nobody annotated."""
    articles = []
    for record in annotated:
        annotation, anchors, annotation_problems = record
        problems += annotation_problems
        if annotation is None or annotation.seed not in seeds:
            continue
        if annotation.draft and not options.drafts:
            continue
        seed = seeds[annotation.seed]
        articles.append(memo.get("assembled", (Same(record), Same(seed)), partial(
            make_article, annotation, anchors, seed, sources.annotations[annotation.path],
            sources.seeds[seed.path])))
    annotated_seeds = {annotation.seed for annotation, _, _ in annotated if annotation}
    for name, seed in seeds.items():
        if name not in annotated_seeds:
            slug = slug_from_name(name)
            if not slug:
                problems.append(Problem(Location(seed.path), f"seed file name {name!r} has no "
                                        "letters or digits to make a page address from",
                                        "rename the file, e.g. 104-harbour.txt"))
                continue
            articles.append(memo.get("assembled", Same(seed),
                                     partial(plain_article, slug, seed, sources.seeds[seed.path])))
    _check_slugs(articles, problems)
    _check_tags(articles, problems)
    return articles


def make_article(annotation: Annotation, anchors: tuple[Anchor, ...], seed: Seed,
                 annotation_data: bytes, seed_data: bytes) -> Article:
    fingerprint = _fingerprint(annotation.path, annotation_data, seed.path, seed_data)
    return Article(annotation.slug, seed, annotation.title, annotation.date or seed.date, annotation,
                   anchors, fingerprint)


def plain_article(slug: str, seed: Seed, seed_data: bytes) -> Article:
    fingerprint = _fingerprint(seed.path, seed_data)
    return Article(slug, seed, seed.first_sentence(), seed.date, None, (), fingerprint)


def _unknown_seed(annotation: Annotation, seed_names: Collection[str]) -> Problem:
    close = closest(annotation.seed, sorted(seed_names))
    hint = f"did you mean '{close}'?" if close else "seed names a file in seeds/, e.g. 001_story.txt"
    return Problem(annotation.where("seed"),
                   f"unknown seed '{annotation.seed}': no such file in seeds/", hint)


def _check_slugs(articles: list[Article], problems: list[Problem]) -> None:
    owners: dict[str, Article] = {}
    for article in articles:
        other = owners.get(article.slug)
        if other is None:
            owners[article.slug] = article
            continue
        where = article.annotation.where("slug") if article.annotation else Location(article.source, 1, 1)
        problems.append(Problem(where, f"two pages have the slug "
                                f"'{article.slug}': {other.source} and {article.source}",
                                "set a different slug: in one of them"))
    for article in articles:
        if article.annotation is None and article.slug in RESERVED_SLUGS:
            problems.append(Problem(Location(article.source), f"seed file name gives the "
                                    f"reserved slug '{article.slug}'", "rename the seed file"))


def _check_tags(articles: list[Article], problems: list[Problem]) -> None:
    for article in articles:
        for tag in article.tags:
            if not slugify(tag):
                problems.append(Problem(Location(article.source), f"tag {tag!r} has no letters "
                                        "or digits to make a page address from",
                                        "write the tag with letters or digits"))


def _check_context_refs(annotations: list[Annotation], contexts: dict[str, ContextEntry],
                        problems: list[Problem]) -> None:
    refs = [ref for annotation in annotations for ref in annotation.refs]
    refs += [ref for entry in contexts.values() for ref in entry.refs]
    problems += _unknown_refs(refs, contexts)


def _unknown_refs(refs: Iterable[ContextRef], contexts: dict[str, ContextEntry]) -> list[Problem]:
    problems = []
    for ref in refs:
        if ref.slug in contexts:
            continue
        close = closest(ref.slug, contexts)
        hint = (f"did you mean [[{close}]]?" if close else
                f"write content/context/{ref.slug}.md, or cite an existing entry" if SLUG.fullmatch(ref.slug)
                else "cite an entry by the name of its file in content/context/, e.g. [[hainan-2001]]")
        problems.append(Problem(ref.where, f"unknown context entry [[{ref.slug}]]", hint))
    return problems

"""`sitegen build` with a memory: reuse what earlier builds of the site left, all of it checked.

The cache (.sitegen-cache/ in the site's folder) holds, for every source file, its signature
(size, times, inode) and digest; for every article, what parsing and anchoring gave (its listing,
the entries it cites, its warnings) under the digests of its files; for every page, the key of the
data it was rendered from; and what each file of the output folder holds. A build reads only the
files whose signature changed, parses only the articles whose files changed, renders only the
pages whose keys changed, and keeps every other file of the output folder as it is. What it
makes is byte for byte what a build from nothing makes.

The new site is swapped in whole, as always (output.StagedOutput). Rather than a new tree of
10,000 links to unchanged files, it is the tree the build before last left (the "spare", kept in
the cache), brought up to date: only what changed since is written, and nothing is deleted but
pages that are gone.

The signatures of the source and output files are asked for from a process forked when the
command starts (see ahead), while this one imports sitegen and loads the cache.

Nothing in the cache is trusted that cannot be checked: a cache from another version of sitegen
or of Python, or one that does not load, is ignored; an output folder or a spare that is not the
one the cache describes (by inode), or a spare a crashed build was updating, is not reused; an
output file is kept only if its signature is the one written. A site with errors is built
again without the cache, so that its errors are reported exactly as a build from nothing would.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import shutil
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

from .ahead import Ahead
from .anchoring import slugify
from .annotations import RESERVED_SLUGS, front_tags
from .build import (
    Options,
    anchor_annotation,
    build_from_files,
    make_article,
    parse_context,
    plain_article,
    read_annotation,
    read_config,
    read_source,
    read_sources,
    read_theme,
    refused_problems,
    scan_sources,
    sort_sources,
)
from .cache import (
    FORMAT,
    Cache,
    Output,
    Parsed,
    Records,
    article_key,
    citations,
    compact_cites,
    installed,
    key_of,
    load,
    save,
)
from .cachefile import CACHE
from .fronttags import quick_front_tags
from .memo import NO_MEMO
from .model import Article, Config, ContextEntry, Listing, Location, Problem, Seed, Site, UserError
from .output import StagedOutput, remove_leftovers
from .parallel import parallel_batches, parallel_imap
from .progress import NO_PROGRESS, Progress
from .seeds import decode_text, parse_seed, slug_from_name
from .site import (
    Built,
    FeedArticle,
    Outline,
    RenderedArticle,
    Shared,
    among_newest,
    build_site_reusing,
    feed_key,
    group_tags,
    newest_rank,
    render_article,
    render_articles,
    render_feed,
    shared_digest_of,
    shared_of,
    tag_names,
)
from .sparetree import EarlyLinker, link_tree
from .stages import NO_STAGES, Stages
from .status import (
    MARKER,
    UNKNOWN,
    Entry,
    SourceSignature,
    as_left,
    changed_at,
    digest,
    is_annotation,
    is_context_entry,
    is_seed,
)
from .theme import TemplateRenderError, Theme, highlight_css

RACY_NS = 100_000_000  # a file changed this close to when it was read may change again unseen
UNTRUSTED = b""  # the signature recorded for such a file: it matches none
PENDING = b"(pending)"  # a first build's seed digest until its workers are done: never a digest
BULK = ("seeds/", "content/")  # the folders that grow with the site: read only what changed
# From this many changed annotations on, each is rendered where it is anchored, not parsed and
# anchored a second time to be rendered: worth a first pass over their front matter for the tags.
EARLY_FROM = 32
# Up to this many changed annotations, an edit that reaches no other page is built without
# looking at any other article (parsed in this process: about 1.5 ms each at 2.6 KB).
QUICK_UP_TO = 256
SiteParts = tuple[Config, Theme, dict[str, ContextEntry], bytes]  # config, theme, entries, site key
# An annotation file made into its article (None if it could not be), its problems, and those of
# the seeds it parsed; and what a worker answers for it: its record instead of the article, and
# its pages as written, if it was rendered early (see _render_early).
Made = tuple[Article | None, list[Problem], dict[str, tuple[Problem, ...]]]
Outcome = tuple[Any, list[Problem], dict[str, tuple[Problem, ...]], Any]


class Result(NamedTuple):
    site: Site | None
    problems: list[Problem]
    kept: int = 0  # articles kept from the previous build
    rendered: int = 0


class Stored(NamedTuple):
    """An article as the cache knows it: enough for list pages; materialized when rendered."""

    parsed: Parsed

    @property
    def slug(self) -> str:
        return self.parsed.listing.slug

    @property
    def date(self) -> Any:
        return self.parsed.listing.date

    @property
    def listing(self) -> Listing:
        return self.parsed.listing

    @property
    def fingerprint(self) -> bytes:
        return self.parsed.fingerprint

    @property
    def source(self) -> str:
        return self.parsed.source


class _Tags(NamedTuple):
    """An article as group_tags sees it."""

    tags: tuple[str, ...]


class _SeedNames(Collection[str]):
    """The names of the seeds there are, read from the digests when asked: a build that parses
    a few annotations asks about a few names; only an unknown seed's hint lists them all."""

    def __init__(self, digests: dict[str, bytes]) -> None:
        self.digests = digests

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and is_seed(path := f"seeds/{name}") and path in self.digests

    def __iter__(self) -> Iterator[str]:
        return (path[len("seeds/"):] for path in self.digests if is_seed(path))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _SeedsOnDemand:
    """The seeds an annotation asks for, parsed when asked (the build keeps none: see _articles)."""

    def __init__(self, build: _Build) -> None:
        self.build = build
        self.parsed: dict[str, Seed | None] = {}
        self.data: dict[str, bytes] = {}  # the bytes each was parsed from, for its article's fingerprint

    def get(self, name: str, default: Seed | None = None) -> Seed | None:
        if name not in self.build.seed_names:
            return default
        if name not in self.parsed:
            path = f"seeds/{name}"
            self.data[name] = self.build._bytes(path)
            if self.build.digests.get(path) is PENDING:  # in a worker of a first build
                self.build.digests[path] = digest(self.data[name])
            self.parsed[name] = self.build._seed(name, self.data[name])
        return self.parsed[name]


def _render_alone(shared: Shared, article: Article) -> RenderedArticle | None:
    """The article rendered on its own: None if it cannot be. The render proper reports a
    template's error; an unknown tag is a wrong guess of the site's tags (see _early_shared)."""
    try:
        return render_article(shared, article)
    except (TemplateRenderError, KeyError):
        return None


def build(root: Path, out: Path, options: Options, force: bool = False,
          stages: Stages = NO_STAGES, progress: Progress = NO_PROGRESS, ahead: Ahead | None = None) -> Result:
    """Build the site at root into out, reusing and then updating root/.sitegen-cache/; with
    the answers of `ahead` about root's and out's files, if look_ahead(root, out) was started."""
    folder = root / CACHE
    folder.mkdir(exist_ok=True)
    with _locked(folder):
        remove_leftovers(out.absolute())  # of builds that crashed: an old site goes back in place
        building = _Build(root, out, folder, options, force, stages, progress, ahead)
        try:
            return building.run()
        finally:
            if building.linker is not None:  # a build that failed, or was interrupted
                building.linker.stop()
            gc.unfreeze()  # what the loaded cache froze (see cache.load) is the collector's again


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One build of a site at a time: two would update the same spare tree."""
    with open(os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


class _Build:
    def __init__(self, root: Path, out: Path, folder: Path, options: Options, force: bool,
                 stages: Stages, progress: Progress, ahead: Ahead | None) -> None:
        self.root, self.out, self.folder = root, out.absolute(), folder
        self.options, self.force, self.stages, self.progress = options, force, stages, progress
        self.ahead = ahead
        self.cache, _ = load(folder)
        self.new = Cache(saved=self.cache.saved, changes=self.cache.changes, saved_size=self.cache.saved_size)
        self.loaded: dict[str, bytes] = {}  # the source files read and kept (not seeds/, content/)
        self.digests: dict[str, bytes] = {}  # every source file's, by path
        self.seed_problems: dict[str, tuple[Problem, ...]] = {}  # of the seeds parsed in this process
        self.verified: dict[str, Entry] = {}  # output files found as written, by path
        self.writer: StagedOutput | None = None
        self.linker: EarlyLinker | None = None  # the next build's spare, being made (see _link_early)
        self.unchecked: tuple[Theme, list[Problem]] | None = None  # a theme to check, its problems so far
        self.read: list[str] = []  # the source files read for their digests: maybe changed
        self.pending: list[str] = []  # the seeds whose digests are PENDING (see _digests)
        self.found: dict[str, SourceSignature] = {}  # the source files found, and when (see _digests)
        self.started = 0
        # of the annotations read, their tags and draft flag as quick_front_tags reads them
        self.fronts: dict[str, tuple[tuple[str, ...], bool] | None] = {}
        self.fresh: dict[str, Any] = {}  # what _records_of gives, for the files _quick parsed
        self.shared: tuple[Shared, bytes] | None = None  # what articles are rendered early with
        # slug -> (fingerprint, shared digest, written files, compact citations, what the feed
        # shows of it or None) of each article rendered early
        self.early: dict[str, tuple[bytes, bytes, tuple[tuple[str, Entry], ...], tuple[Any, ...],
                                    tuple[str, str] | None]] = {}
        # In a worker: the ranks of the newest articles it rendered (see site.among_newest).
        self.newest: list[tuple[Any, ...]] = []
        self.feed: dict[str, FeedArticle] = {}  # what the workers sent of the feed's candidates

    def run(self) -> Result:
        problems: list[Problem] = []
        with self.stages.time("read"):
            looked = self.ahead.sources() if self.ahead is not None else None
            if looked is not None:
                started, found = looked.started, looked.found
                problems += refused_problems(looked.refused)
            else:
                started = time.time_ns()
                found = scan_sources(self.root, problems)
            digests = self.digests = self._digests(found, started, problems, looked is not None)
        if any(problem.severity == "error" for problem in problems):
            return self._from_scratch()
        site_files = {path: self._bytes(path) for path in found
                      if not path.startswith(BULK) or is_context_entry(path)}
        sources = sort_sources(site_files)
        site_key = key_of(FORMAT, installed(), self.options.base_url, self.options.drafts,
                          sources.config, sources.templates, sources.contexts)
        site_known = self.cache.site == site_key
        if not site_known:  # every page may change: only the output folder's record still holds
            self.cache = Cache(files=self.cache.files, out_inode=self.cache.out_inode,
                               spare=self.cache.spare, spare_inode=self.cache.spare_inode,
                               identity=self.cache.identity)
        self.new.site = site_key
        self.old_files = self._checked_files()
        if self.old_files:
            self.verified = self._verified_ahead()

        with self.stages.time("parse"):
            config = read_config(sources, self.options, problems)
            theme_problems: list[Problem] = []
            compiled = self.folder / "templates"
            compiled.mkdir(exist_ok=True)
            theme = read_theme(sources, theme_problems, NO_MEMO, False, compiled)
            if site_known:  # checked when it was last built
                self.new.theme_problems = self.cache.theme_problems
                problems += self.new.theme_problems
            else:  # checked by _meanwhile: while the workers anchor, unless they need the templates
                self.unchecked = (theme, theme_problems)
                if not theme.without_jinja("article.html"):
                    self._meanwhile()
            contexts = {}
            for path, data in sources.contexts.items():
                entry, entry_problems = parse_context(path, data)
                problems += entry_problems
                if entry is not None:
                    contexts[entry.slug] = entry
        spare = self._spare()
        with StagedOutput(self.out, self.force, self.old_files, spare, self._intact) as writer:
            self.writer = writer
            if spare is not None:
                (self.folder / "updating").touch()  # the spare is not what the cache says until saved
            try:
                quick = self._quick(digests, problems, contexts, config, theme) if site_known else None
                if quick is not None:
                    built, shown, notes = quick
                else:
                    with self.stages.time("anchor"):
                        articles = self._articles(digests, problems, (config, theme, contexts, site_key))
                        problems += self._seed_problems(digests)  # after: seeds parsed there are not again
                        if not site_known:
                            self._meanwhile()  # if no worker started, it has not run yet
                            problems += self.new.theme_problems
                    with self.stages.time("assemble"):
                        failed = any(problem.severity == "error" for problem in problems) or _fails_checks(
                            self.new.parsed.values(), contexts, self.options)
                    if failed:
                        return self._from_scratch()
                    self._link_early(spare)
                    with self.stages.time("render"):
                        built = build_site_reusing(articles, contexts, config, theme, sources.static,
                                                   self.options.jobs, writer.write, NO_MEMO, self, site_key,
                                                   self.progress)
                    shown, notes = len(articles), sum(a.listing.notes for a in articles)
            except TemplateRenderError as failure:
                return Result(None, [*problems, failure.problem])
            with self.stages.time("write"):
                for early in self.early.values():  # rendered for no page of the site: none are
                    for path, _ in early[2]:
                        writer.discard(path)
                files = dict(built.written)
                files[".sitegen"] = writer.commit(files, retire=True)
                self._record(built, files)
                self._retire(writer.old)
                save(self.folder, self.new)
                with contextlib.suppress(FileNotFoundError):
                    (self.folder / "updating").unlink()
        kept = built.kept
        site = Site({}, articles=shown, notes=notes, contexts=len(contexts), base_path=config.base_path)
        return Result(site, problems, kept, shown - kept)

    @cached_property
    def seed_names(self) -> _SeedNames:
        return _SeedNames(self.digests)

    # -- sources

    def _digests(self, found: dict[str, SourceSignature], started: int,
                 problems: list[Problem], read_ahead: bool = False) -> dict[str, bytes]:
        """The digest of every file: from the cache while its signature holds, else read.

        A file changed just before it was read may change again within the same tick of the file
        system's clock, keeping its signature: its signature is not trusted then (UNTRUSTED
        matches none). Only a file read now can be such a file: one whose recorded signature
        holds was judged when it was read, by an earlier build, with an earlier clock.
        `read_ahead`: found and started are the look-ahead process's, which then read some
        annotations and the seeds of a first build (after it found them, so that a digest is
        never older than its signature). Those seeds' digests are PENDING until the workers are
        done (see _settle_seeds)."""
        digests = self.digests = {}
        known_sources, new_sources = self.cache.sources, self.new.sources
        # A first build's last annotations, and its seeds, are read by the look-ahead process
        # while this one reads the rest.
        reading_ahead = self.ahead if read_ahead and self.ahead is not None and self.ahead.first else None
        later = []
        annotation = -1  # the index of the path among the annotations found (see Ahead.take)
        for path, sig in found.items():
            if reading_ahead and is_annotation(path):
                annotation += 1
            known = known_sources.get(path)
            if known is not None and known[0] == sig:
                digests[path] = known[1]
                new_sources[path] = known
                continue
            self.read.append(path)
            if reading_ahead is not None and is_seed(path):
                digests[path] = PENDING
                self.pending.append(path)
                continue
            if reading_ahead is not None and is_annotation(path) and not reading_ahead.take(annotation):
                later.append(path)  # read by the look-ahead process
                continue
            digests[path] = self._digest_of(path, problems)
        annotations = reading_ahead.annotations_read() if reading_ahead else {}
        for path in later:
            if path in annotations:
                digests[path], self.fronts[path] = annotations[path]
            else:  # not read there (it could not be, or the process failed): here, then
                digests[path] = self._digest_of(path, problems)
        self.found, self.started = found, started
        self._record_sources(path for path in self.read if digests[path] is not PENDING)
        return digests

    def _record_sources(self, paths: Iterable[str]) -> None:
        """The cache's record of source files read by this build (see _digests)."""
        for path in paths:
            racy = changed_at(self.found[path]) >= self.started - RACY_NS
            self.new.sources[path] = (UNTRUSTED if racy else self.found[path], self.digests[path])

    def _settle_seeds(self, problems: list[Problem]) -> None:
        """The digests of a first build's seeds, once its workers are done: read meanwhile by the
        look-ahead process (the workers digest the seeds they parse themselves), or read here."""
        if not self.pending:
            return
        assert self.ahead is not None
        read = self.ahead.seed_digests()
        for path in self.pending:
            if self.digests[path] is PENDING:  # else this process parsed it (no workers) and digested it
                self.digests[path] = read[path] if path in read else self._digest_of(path, problems)
        self._record_sources(self.pending)
        self.pending = []

    def _digest_of(self, path: str, problems: list[Problem]) -> bytes:
        data = self._bytes(path, problems)
        if is_annotation(path):  # while its bytes are at hand (see _early_shared)
            self.fronts[path] = quick_front_tags(data)
        return digest(data)

    def _bytes(self, path: str, problems: list[Problem] | None = None) -> bytes:
        """A source file's bytes; those of articles are read again whenever they are needed, so
        that a site of 100,000 articles is never held in memory."""
        data = self.loaded.get(path)
        if data is None:
            data = read_source(self.root, path, [] if problems is None else problems) or b""
            if not path.startswith(BULK):
                self.loaded[path] = data
        return data

    def _seed(self, name: str, data: bytes | None = None) -> Seed | None:
        path = f"seeds/{name}"
        seed, problems = parse_seed(path, self._bytes(path) if data is None else data)
        self.seed_problems[path] = tuple(problems)
        return seed

    def _seed_problems(self, digests: dict[str, bytes]) -> list[Problem]:
        """The problems of every seed changed since the last build (a seed problem is an error,
        so the seeds of a build that left a cache had none), parsed here unless they already were."""
        problems = []
        for path in filter(is_seed, digests):
            known = self.cache.sources.get(path)
            if known is not None and known[1] == digests[path]:
                continue
            if path not in self.seed_problems:
                self._seed(path[len("seeds/"):])
            problems += self.seed_problems[path]
        return problems

    # -- articles

    def _articles(self, digests: dict[str, bytes], problems: list[Problem],
                  site: SiteParts) -> list[Stored]:
        """Every article to publish: parsed and anchored anew where its files changed (and then
        rendered at once, when many did: see _early_shared)."""
        seed_paths = [path for path in digests if is_seed(path)]
        records: dict[str, Parsed] = {}
        todo = []
        for path in sorted(digests):
            if not is_annotation(path):
                continue
            known = self.cache.parsed.get(path)
            if known is not None and known.digest == digests[path] and known.seed_digest \
                    and digests.get(known.seed) == known.seed_digest:
                records[path] = known
            else:
                todo.append(path)
        if len(todo) >= EARLY_FROM:
            self.shared = self._early_shared(records, todo, site)
        # Each worker parses and anchors its files and sends back only their records: the main
        # process holds no parsed article. Where the site's tags were known first, the worker
        # also renders each article and writes its files; else the render workers parse each
        # article again.
        if todo:
            self.progress.start("anchor", len(todo))
        rest = [path for path in todo if path not in self.fresh]
        # Closed however the loop ends, so that an interrupted build leaves no worker behind.
        with contextlib.closing(parallel_batches(self._records_of, rest, self.options.jobs,
                                                 self._meanwhile)) as anchored:
            outcomes = chain(((path, self.fresh[path]) for path in todo if path in self.fresh),
                             zip(rest, anchored, strict=True))
            for path, (record, found, seed_problems, early) in outcomes:
                self.progress.advance()
                self.seed_problems.update(seed_problems)  # so that no seed is parsed again here
                if early is not None:
                    assert record is not None and self.writer is not None
                    for written, entry in early[2]:
                        self.writer.written_elsewhere(written, entry)
                    self.early[record.listing.slug] = early
                if record is None:
                    problems += found
                    problems.append(Problem(Location(path), "not built", "", "error"))  # see run()
                    continue
                records[path] = record
        self._settle_seeds(problems)
        for path in sorted(records):
            self.new.parsed[path] = records[path]
            problems += records[path].problems
        annotated_seeds = {record.seed for record in records.values()}
        for path in seed_paths:
            if path in annotated_seeds:
                continue
            known = self.cache.parsed.get(path)
            if known is not None and known.digest == digests[path]:
                self.new.parsed[path] = known
                continue
            seed, slug = self._seed(path[len("seeds/"):]), slug_from_name(path[len("seeds/"):])
            if seed is None or not slug:
                problems.append(Problem(Location(path), "not built", "", "error"))  # see run()
                continue
            article = plain_article(slug, seed, self._bytes(path))
            self.new.parsed[path] = Parsed(path, digests[path], path, digests[path], False,
                                           article.fingerprint, article.listing, (), ())
        return [Stored(record) for record in self.new.parsed.values()
                if not record.draft or self.options.drafts]

    def _early_shared(self, records: dict[str, Parsed], todo: list[str],
                      site: SiteParts) -> tuple[Shared, bytes] | None:
        """What every article page shares, from the tags in the front matter of the changed
        annotations and in the records of the others, so that articles can be rendered as they
        are anchored. Should it differ from what the site turns out to share, the articles
        rendered with it are rendered again (see rendered_early)."""
        config, theme, contexts, site_key = site
        # Read by a scan of each file's front matter where it can be (see _digests), else parsed.
        unsure = [path for path in todo if self.fronts.get(path) is None]
        parsed = dict(zip(unsure, parallel_imap(self._front_of, unsure, self.options.jobs), strict=True))
        fronts = [self.fronts.get(path) or parsed[path] for path in todo]
        if any(front is None for front in fronts):
            return None  # an unreadable file: the build reports it
        listings = [_Tags(record.listing.tags) for record in records.values()
                    if not record.draft or self.options.drafts]
        listings += [_Tags(tags) for tags, draft in fronts if not draft or self.options.drafts]  # type: ignore[misc]
        shared = shared_of(config, theme, contexts, tag_names(group_tags(listings)))  # type: ignore[arg-type]
        return shared, shared_digest_of(self, site_key, shared)

    def _meanwhile(self) -> None:
        """What this process does while the workers anchor, once: check the templates left
        unchecked (a site's own: loading Jinja and them is 25 ms the workers need not wait for),
        and ready what only the site's lists need."""
        if self.unchecked is None:
            return
        theme, found = self.unchecked
        self.unchecked = None
        found += theme.check()
        self.new.theme_problems = tuple(found)
        highlight_css()  # kept for the stylesheet the build writes last

    def _front_of(self, path: str) -> tuple[tuple[str, ...], bool] | None:
        """In a worker: an annotation's tags and draft flag, from its front matter."""
        text, _ = decode_text(path, self._bytes(path))
        return front_tags(path, text) if text is not None else None

    def _parsed(self, article: Article, problems: list[Problem]) -> Parsed:
        annotation = article.annotation
        assert annotation is not None
        path, seed = annotation.path, article.seed.path
        return Parsed(path, self.digests[path], seed, self.digests[seed], annotation.draft,
                      article.fingerprint, article.listing, tuple(ref.slug for ref in annotation.refs),
                      tuple(problems))

    def _article_of(self, path: str) -> Made:
        """One annotation file parsed and anchored into its article, with the problems of the
        seed it parsed."""
        return self._articles_of([path])[0]

    def _articles_of(self, paths: list[str]) -> list[Made]:
        """Annotation files parsed and anchored into their articles, with the problems of the
        seeds they parsed: read, parsed, their seeds read and parsed, anchored, each stage for
        them all before the next (see _records_of)."""
        sources = [self._bytes(path) for path in paths]
        parsed = [read_annotation(path, data) for path, data in zip(paths, sources, strict=True)]
        demands = [_SeedsOnDemand(self) for _ in paths]
        seeds = [on_demand.get(annotation.seed) if annotation is not None else None
                 for on_demand, (annotation, _) in zip(demands, parsed, strict=True)]
        anchored = [anchor_annotation(on_demand, self.seed_names, each)  # type: ignore[arg-type]
                    for on_demand, each in zip(demands, parsed, strict=True)]
        made: list[Made] = []
        for data, on_demand, seed, (annotation, anchors, problems) in zip(sources, demands, seeds, anchored,
                                                                          strict=True):
            parsed_seeds = [f"seeds/{name}" for name in on_demand.parsed]
            seed_problems = {path: self.seed_problems[path] for path in parsed_seeds}
            if annotation is None or seed is None:
                made.append((None, problems, seed_problems))
            else:
                article = make_article(annotation, anchors, seed, data, on_demand.data[seed.name])
                made.append((article, problems, seed_problems))
        return made

    def _records_of(self, paths: list[str]) -> list[Outcome]:
        """In a worker: a chunk of annotation files down to their records, with the problems of
        the seeds they parsed, and the articles rendered and written if they can be. Each stage
        for the whole chunk before the next (parsing, anchoring, rendering, writing), so that
        its code and data stay in the processor's caches: a first build of 1,000 articles took
        its workers 12% less CPU time so than taking each article through every stage in turn."""
        made = self._articles_of(paths)
        early = self._render_early(made)
        return self._write_early([
            (None, problems, seed_problems, None) if article is None
            else (self._parsed(article, problems), problems, seed_problems, rendered)
            for (article, problems, seed_problems), rendered in zip(made, early, strict=True)])

    def _render_early(self, made: list[Made]) -> list[Any]:
        """The articles' pages rendered now, while they are parsed and anchored: for each,
        (fingerprint, shared digest, files, compact citations, what the feed shows of it), the
        files to write with the rest of the chunk's (see _write_early); or None if it cannot be."""
        early: list[Any] = [None] * len(made)
        if self.shared is None or self.writer is None:
            return early
        shared, digest = self.shared
        ready = [index for index, (article, problems, _) in enumerate(made)
                 if article is not None and not any(problem.severity == "error" for problem in problems)
                 and not (article.annotation and article.annotation.draft and not self.options.drafts)]
        articles: list[Article] = [made[index][0] for index in ready]  # type: ignore[misc]
        try:
            results: list[RenderedArticle | None] = list(render_articles(shared, articles))
        except (TemplateRenderError, KeyError):  # one of them (see _render_alone): each alone, then
            results = [_render_alone(shared, article) for article in articles]
        for index, article, rendered in zip(ready, articles, results, strict=True):
            if rendered is None:
                continue
            feed = None
            if among_newest(self.newest, newest_rank(article.date, article.slug)):
                feed = rendered.body, article.annotator  # so that the feed need not parse it again
            early[index] = article.fingerprint, digest, rendered.files, compact_cites(rendered.cites), feed
        return early

    def _write_early(self, outcomes: list[Outcome]) -> list[Outcome]:
        """In a worker, after a chunk: the pages its articles were rendered into, written into
        the new tree, each (path, bytes) replaced by what writing it gave. Written together,
        apart from the rendering, so that neither evicts the other from the processor's caches
        at every article: alternating cold builds of 1,000 articles took 50 ms less so."""
        written = []
        for record, problems, seed_problems, early in outcomes:
            if early is not None:
                assert self.writer is not None
                fingerprint, digest, files, cites, feed = early
                try:
                    early = fingerprint, digest, tuple((path, self.writer.write(path, data))
                                                       for path, data in files), cites, feed
                except FileExistsError:  # a slug written twice: the render proper fails the build
                    early = None
            written.append((record, problems, seed_problems, early))
        return written

    # -- output

    def _checked_files(self) -> dict[str, Entry]:
        """What the output folder holds, if it is the folder the cache describes."""
        try:
            status = os.stat(self.out)
        except OSError:
            return {}
        return self.cache.files if status.st_ino == self.cache.out_inode else {}

    def _verified_ahead(self) -> dict[str, Entry]:
        """The output folder's files found as they were left by `ahead`, if it checked them in
        this folder (the cache's, as old_files holds it) and with this cache file."""
        checked = self.ahead.outputs() if self.ahead is not None else None
        looked_at = (self.cache.identity, self.cache.out_inode)
        if checked is None or (checked.cache, checked.out_inode) != looked_at:
            return {}
        verified = dict(self.old_files)  # a copy, then the few taken out: 20,000 files at 10,000 articles
        for path in (*checked.unlike, MARKER):
            verified.pop(path, None)
        return verified

    def _spare(self) -> tuple[Path, dict[str, Entry]] | None:
        """The spare tree to bring up to date, if it is the one the cache describes and whole."""
        spare = self.folder / "spare"
        try:
            status = os.stat(spare)
            same_device = status.st_dev == os.stat(self.out.parent).st_dev
        except OSError:
            return None
        trusted = (status.st_ino == self.cache.spare_inode and same_device
                   and not (self.folder / "updating").exists())
        if trusted:
            return spare, dict(self.cache.spare)
        shutil.rmtree(spare, ignore_errors=True)
        return None

    def _retire(self, old: Path | None) -> None:
        """Keep the replaced site as the next build's spare, with what of it was checked; with
        no such site, make a spare of links to the new one, so that the next build is quick too."""
        self.new.out_inode = os.stat(self.out).st_ino
        spare = self.folder / "spare"
        if old is not None and self.old_files:
            try:
                if old != spare:
                    shutil.rmtree(spare, ignore_errors=True)
                    os.rename(old, spare)
                self.new.spare_inode = os.stat(spare).st_ino
                # What was checked, and of the rest only the signatures (see _in_spare).
                self.new.spare = dict(self.verified)
                for path in self.old_files.keys() - self.verified.keys():
                    self.new.spare[path] = (UNKNOWN, self.old_files[path][1])
                return
            except OSError:  # another device
                pass
        if old is not None:  # a folder the cache knows nothing of cannot be brought up to date
            shutil.rmtree(old, ignore_errors=True)
        linker, self.linker = self.linker, None
        if linker is None or not linker.finish(self.out, self.new.files):
            self._mark_spare_made_anew()
            try:
                link_tree(self.out, spare, self.new.files)
            except OSError:  # no hard links here, or another device: no spare
                shutil.rmtree(spare, ignore_errors=True)
                return
        self.new.spare_inode = os.stat(spare).st_ino
        self.new.spare = dict(self.new.files)  # the same files: the same inodes

    def _link_early(self, spare: tuple[Path, dict[str, Entry]] | None) -> None:
        """Start making the next build's spare from the pages written so far, if it is to be
        made anew (see _retire): in a forked process, while this one renders the site's lists."""
        if spare is not None or self.old_files or not self.early or not hasattr(os, "fork"):
            return
        assert self.writer is not None and self.writer.staging is not None
        files = {path: entry for early in self.early.values() for path, entry in early[2]}
        self._mark_spare_made_anew()
        try:
            self.linker = EarlyLinker(self.writer.staging, self.folder / "spare", files)
        except OSError:  # _retire tries again, and gives up if it must
            shutil.rmtree(self.folder / "spare", ignore_errors=True)

    def _mark_spare_made_anew(self) -> None:
        """A spare made anew is not whole until the cache that names it is saved: its folder may
        get the inode number of the spare the cache still names, and a build killed meanwhile
        would leave it half made."""
        (self.folder / "updating").touch()
        shutil.rmtree(self.folder / "spare", ignore_errors=True)

    def _record(self, built: Built, files: dict[str, Entry]) -> None:
        self.new.files = files
        self.new.outline = tuple(built.outline) if built.outline else ()
        for slug, fingerprint, cites in built.rendered:
            output = Output(article_key(fingerprint, built.shared), compact_cites(cites))
            self.new.outputs[slug] = output.packed()
        for slug, output in self.cache.outputs.items():
            if slug not in self.new.outputs and f"{slug}/index.html" in files:
                self.new.outputs[slug] = output
        # A page's key while the site holds the page: the few hundred pages, not every file.
        self.new.pages = {path: key for path, key in self.cache.pages.items() if path in files}
        self.new.pages.update((path, key) for path, key in built.pages.items() if path in files)

    def _quick(self, digests: dict[str, bytes], problems: list[Problem], contexts: dict[str, ContextEntry],
               config: Config, theme: Theme) -> tuple[Built, int, int] | None:
        """The build when only annotation files changed, a few, and nothing that other pages show
        of them (listing, citations, draft, seed): those are parsed here, and only their own pages
        are rendered, and the feed if it shows one of them; every other file is kept, and no other
        record is looked at (the checks across articles held for them last time and still do).
        None when that does not hold, or a file of the output folder is not as it was left: the
        site is then built the usual way. Returns what was built, with the number of articles
        shown and of their notes."""
        old = self.cache
        if not old.outline or not self.old_files or not isinstance(old.parsed, Records) \
                or old.sources.keys() != digests.keys():
            return None  # another site (the cache was reset), or files came or went
        changed = [path for path in self.read if old.sources[path][1] != digests[path]]
        if len(changed) > QUICK_UP_TO or not all(map(is_annotation, changed)):
            return None  # many: workers parse them; or a file other than an annotation changed
        with self.stages.time("anchor"):
            fresh: dict[str, Article] = {}
            records = Records(old.parsed.stored)
            for path in changed:
                before = old.parsed.get(path)
                article, found, seed_problems = self._article_of(path)
                record = self._parsed(article, found) if article is not None else None
                self.fresh[path] = (record, found, seed_problems, None)  # for _articles, if not here
                if before is None or record is None or any(p.severity == "error" for p in found) or (
                        record.listing, record.refs, record.draft, record.seed) != (
                        before.listing, before.refs, before.draft, before.seed):
                    return None
                records.decoded[path] = record
                if record.draft and not self.options.drafts:
                    continue  # on no page of the site
                assert article is not None
                fresh[article.slug] = article
        with self.stages.time("assemble"):  # what the checks across articles would be
            if not self._all_intact():
                return None
            tag_names, newest = old.outline
            shared = shared_of(config, theme, contexts, dict(tag_names))
            shared_digest = shared_digest_of(self, self.new.site, shared)
        with self.stages.time("render"):
            pages: dict[str, bytes] = {}
            rendered: dict[str, RenderedArticle] = {}
            for slug, article in fresh.items():
                result = render_article(shared, article)
                output = old.output(slug)
                if output is None or compact_cites(result.cites) != output.cites:
                    return None
                rendered[slug] = result
                pages.update(result.files)
            keys = {}
            if fresh.keys() & set(newest):
                paths = {old.parsed.slug_of(path): path for path in old.parsed.shown(self.options.drafts)}
                feed = [fresh.get(slug) or self.materialize(Stored(old.parsed[paths[slug]]))
                        for slug in newest]
                pages["feed.xml"] = render_feed(theme, shared.site, feed,
                                                {slug: result.body for slug, result in rendered.items()})
                keys["feed.xml"] = feed_key(self, shared_digest, feed)
            if not pages.keys() <= self.old_files.keys():
                return None
            assert self.writer is not None
            spare = self.writer.spare or {}
            written = {}
            for path, entry in self.old_files.items():
                if path == MARKER:
                    continue  # commit writes it
                if path in pages:
                    written[path] = self.writer.write(path, pages[path])
                elif spare.get(path) == entry:  # the spare's file is this very one (a link to it)
                    written[path] = entry
                else:
                    written[path] = self.writer.keep(path)
        self.new.parsed = records
        for path in sorted(records.warned()):  # every warning, in the order a whole build gives
            problems += records.problems_of(path)
        shown, notes = old.parsed.tally(self.options.drafts)
        anew = [(slug, article.fingerprint, rendered[slug].cites) for slug, article in fresh.items()]
        outline = Outline(tag_names, newest)
        return Built({}, written, anew, keys, shared_digest, shown - len(anew), outline=outline), shown, notes

    # -- site.Reuse

    def rendered_early(self, article: Stored, shared: bytes) -> RenderedArticle | None:
        """The article's pages as rendered while it was anchored, if that was with what the site
        shares; else None, with those files taken out of the new tree."""
        early = self.early.pop(article.slug, None)
        if early is None:
            return None
        fingerprint, digest, written, cites, feed = early
        if fingerprint == article.fingerprint and digest == shared:
            listing = article.listing
            if feed is None:
                return RenderedArticle((), None, citations(listing, cites), written)
            body, annotator = feed
            self.feed[article.slug] = FeedArticle(listing.slug, listing.title, listing.date, listing.summary,
                                                  listing.tags, annotator)
            return RenderedArticle((), body, citations(listing, cites), written)
        assert self.writer is not None
        for path, _ in written:
            self.writer.discard(path)
        return None

    def keep_article(self, article: Stored, shared: bytes) -> RenderedArticle | None:
        output = self.cache.output(article.slug)
        if output is None or output.key != article_key(article.fingerprint, shared):
            return None
        paths = (f"{article.slug}/index.html", f"{article.slug}/annotations.json")
        if not all(self._intact(path) for path in paths):
            return None
        assert self.writer is not None
        return RenderedArticle((), None, citations(article.listing, output.cites),
                               tuple((path, self.writer.keep(path)) for path in paths))

    def keep_page(self, path: str, key: bytes) -> Entry | None:
        if self.cache.pages.get(path) != key or not self._intact(path):
            return None
        assert self.writer is not None
        return self.writer.keep(path)

    def page_key(self, name: str, path: str, data: Any) -> bytes:
        return key_of(name, path, data)

    def feed_article(self, article: Stored) -> FeedArticle | None:
        return self.feed.get(article.slug)

    def materialize(self, article: Stored) -> Article:
        """The article a record stands for, parsed and anchored again from its files."""
        record = article.parsed
        if record.source == record.seed:  # a plain seed
            seed = self._seed(record.seed[len("seeds/"):])
            assert seed is not None
            return plain_article(record.listing.slug, seed, self._bytes(record.seed))
        made, _, _ = self._article_of(record.source)
        if made is None or made.fingerprint != record.fingerprint:  # it covers the seed's path too
            raise SourceChangedError(record.source)
        return made

    def _all_intact(self) -> bool:
        """_intact for every file of the output folder but the marker (one loop: 20,000 files
        at 10,000 articles)."""
        verified, out = self.verified, str(self.out)
        for path, entry in self.old_files.items():
            if path in verified or path == MARKER:
                continue
            if not as_left(out, path, entry):
                return False
            verified[path] = entry
        return True

    def _intact(self, path: str) -> bool:
        """The output folder's file is the one the cache says was written there."""
        if path in self.verified:
            return True
        entry = self.old_files.get(path)
        if entry is None or not as_left(str(self.out), path, entry):
            return False
        self.verified[path] = entry
        return True

    # -- without the cache

    def _from_scratch(self) -> Result:
        """For a site the cache found fault with, the build --no-cache makes: its problems are
        then exactly those of a build from nothing (and if the fault was only the cache's, the
        site is built all the same)."""
        return build_from_scratch(self.root, self.out, self.options, self.force, self.stages,
                                  self.progress)


def build_from_scratch(root: Path, out: Path, options: Options, force: bool = False,
                       stages: Stages = NO_STAGES, progress: Progress = NO_PROGRESS) -> Result:
    """Build everything anew, without reading or writing the cache (`build --no-cache`)."""
    problems: list[Problem] = []
    with StagedOutput(out, force) as writer:
        with stages.time("read"):
            files = read_sources(root, problems)
        site, build_problems = build_from_files(files, options, writer.write, stages=stages,
                                                progress=progress)
        problems += build_problems
        if site is None or any(problem.severity == "error" for problem in problems):
            return Result(None, problems)
        with stages.time("write"):
            writer.commit()
    return Result(site, problems, 0, site.articles)


class SourceChangedError(UserError):
    """A source file changed while the site was being built."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} changed while the site was being built", "build again once it is saved")
        self.args = (path,)  # as a worker process sends it back


def _fails_checks(records: Any, contexts: Mapping[str, Any], options: Options) -> bool:
    """What build checks across articles, on the cached records: any doubt means a full build."""
    slugs = set()
    tags: set[str] = set()
    for record in records:
        if record.draft and not options.drafts:
            continue
        slug = record.listing.slug
        if slug in slugs or (record.source == record.seed and slug in RESERVED_SLUGS):
            return True
        slugs.add(slug)
        tags.update(record.listing.tags)
    if any(not slugify(tag) for tag in tags):  # each tag once: a site has few, used many times
        return True
    refs = [slug for record in records for slug in record.refs]
    refs += [ref.slug for entry in contexts.values() for ref in entry.refs]
    return any(slug not in contexts for slug in refs)

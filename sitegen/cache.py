"""What `sitegen build` remembers between runs, in .sitegen-cache/ (see incremental).

Stored in marshal's format, which loads plain tuples several times faster than pickle, in frames
behind a checksum each, so that a damaged file is known before it is used: the whole cache, then
the changes of later builds (see cachefile and Cache.dump_change). Only plain values are stored:
names, digests, signatures, listings and citations as tuples, problems (rare) pickled.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import io
import marshal
import os
import pickle
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from . import cachefile
from .cachefile import CACHE_FILE, FORMAT, SECTIONS, TABLES, Identity
from .model import Listing, Problem
from .site import Citation, NoteRef
from .status import Entry

# From this many changes appended to the cache file on, it is written whole again.
MAX_CHANGES = 16


# A source file's signature (status.source_signature) and digest, stored as they are.
Source = tuple[bytes, bytes]


class Parsed(NamedTuple):
    """What one annotation file (or a seed nobody annotates) gave, while its files are unchanged."""

    source: str  # the annotation's path, or the plain seed's
    digest: bytes  # of that file
    seed: str  # the seed's path
    seed_digest: bytes
    draft: bool
    fingerprint: bytes
    listing: Listing
    refs: tuple[str, ...]  # the context entries it cites
    problems: tuple[Problem, ...]  # warnings: a build with errors leaves no cache


class Output(NamedTuple):
    """An article's two files, as they were rendered."""

    key: bytes  # the article's fingerprint with what every article page shares
    cites: tuple[tuple[str, int, str, str] | tuple[str], ...]  # entry, note number, id, quote

    def packed(self) -> bytes:
        """As the cache holds it: one object instead of a dozen to load."""
        return marshal.dumps(tuple(self))


def compact_cites(cites: tuple[tuple[str, Citation], ...]) -> tuple[Any, ...]:
    return tuple((slug, *citation.note) if citation.note else (slug,) for slug, citation in cites)


def citations(listing: Listing, cites: tuple[Any, ...]) -> tuple[tuple[str, Citation], ...]:
    return tuple((cite[0], Citation(listing, NoteRef(*cite[1:]) if len(cite) > 1 else None))
                 for cite in cites)


# A record's stored form (see Cache._plain): what builds look at in every record, as fields of
# their own, and the rest in marshal's format, decoded only for the records a build looks into.
# A site of 10,000 articles loads 70,000 objects instead of 250,000.
DRAFT, SLUG, NOTES, PROBLEMS, DIGEST, FINGERPRINT, REST = range(7)


class Records(Mapping[str, Parsed]):
    """The parsed records as loaded, each decoded when first asked for: a build that changes
    one article of 10,000 looks at a few, and saves the others as they were stored."""

    def __init__(self, stored: dict[str, tuple[Any, ...]]) -> None:
        self.stored = stored
        self.decoded: dict[str, Parsed] = {}

    def __getitem__(self, path: str) -> Parsed:
        record = self.decoded.get(path)
        if record is None:
            values = self.stored[path]
            source, seed, seed_digest, listing, refs = marshal.loads(values[REST])
            record = Parsed(source, values[DIGEST], seed, seed_digest, values[DRAFT], values[FINGERPRINT],
                            _listing(listing), refs, _unpickled(values[PROBLEMS]))
            self.decoded[path] = record
        return record

    def __contains__(self, path: object) -> bool:
        return path in self.stored

    def problems_of(self, path: str) -> tuple[Problem, ...]:
        """A record's warnings, without decoding the rest of it."""
        record = self.decoded.get(path)
        return record.problems if record is not None else _unpickled(self.stored[path][PROBLEMS])

    def warned(self) -> list[str]:
        """The paths of the records with warnings."""
        return [path for path, values in self.stored.items()
                if (self.decoded[path].problems if path in self.decoded else values[PROBLEMS])]

    def slug_of(self, path: str) -> str:
        record = self.decoded.get(path)
        return record.listing.slug if record is not None else self.stored[path][SLUG]

    def shown(self, drafts: bool) -> list[str]:
        """The paths of the records the site shows (drafts only when it shows drafts)."""
        return [path for path, values in self.stored.items() if drafts or not values[DRAFT]]

    def tally(self, drafts: bool) -> tuple[int, int]:
        """How many articles the site shows, and how many notes they hold."""
        shown = self.shown(drafts)
        return len(shown), sum(self.stored[path][NOTES] for path in shown)

    def __iter__(self) -> Iterator[str]:
        return iter(self.stored)

    def __len__(self) -> int:
        return len(self.stored)


class Cache:
    """What a build leaves for the next: its inputs' digests, its records, what it wrote."""

    def __init__(self, format: tuple[Any, ...] = FORMAT, site: bytes = b"",
                 theme_problems: tuple[Problem, ...] = (), sources: dict[str, Source] | None = None,
                 parsed: Mapping[str, Parsed] | None = None, outputs: dict[str, bytes] | None = None,
                 pages: dict[str, bytes] | None = None, files: dict[str, Entry] | None = None,
                 out_inode: int = 0, spare: dict[str, Entry] | None = None, spare_inode: int = 0,
                 outline: tuple[Any, ...] = (), saved: dict[str, Any] | None = None, changes: int = 0,
                 saved_size: int = 0, identity: Identity = (0, 0, 0)) -> None:
        self.format = format
        self.site = site  # digest of every site-wide input: config, templates, context entries, options
        self.theme_problems = theme_problems
        self.sources: dict[str, Source] = {} if sources is None else sources
        self.parsed: Mapping[str, Parsed] = {} if parsed is None else parsed  # a dict, or the Records loaded
        self.outputs: dict[str, bytes] = {} if outputs is None else outputs  # by slug: Output.packed()
        self.pages: dict[str, bytes] = {} if pages is None else pages  # output path -> key of its data
        self.files: dict[str, Entry] = {} if files is None else files  # what the output folder holds
        self.out_inode = out_inode
        self.spare: dict[str, Entry] = {} if spare is None else spare  # what the spare tree holds
        self.spare_inode = spare_inode
        self.outline = outline  # site.Outline of the last build, as plain tuples
        # what the cache file holds, section by section (as loaded, with the changes appended to
        # it applied), and how many changes it holds: a save appends only what differs from it
        self.saved = saved
        self.changes = changes
        self.saved_size = saved_size  # bytes
        self.identity = identity  # of the file loaded

    def _plain(self, path: str, record: Parsed) -> tuple[Any, ...]:
        """The record's stored form: the one loaded while the record is the same."""
        values = self.saved["parsed"].get(path) if self.saved is not None else None
        if values is not None and values[DIGEST:REST] == (record.digest, record.fingerprint):
            return values
        listing = record.listing
        rest = (record.source, record.seed, record.seed_digest, _plain_listing(listing), record.refs)
        return (record.draft, listing.slug, listing.notes, _pickled(record.problems), record.digest,
                record.fingerprint, marshal.dumps(rest))

    def _plain_records(self) -> dict[str, tuple[Any, ...]]:
        if isinstance(self.parsed, Records):  # the loaded records, some of them looked at
            return {path: self._plain(path, self.parsed.decoded[path]) if path in self.parsed.decoded
                    else self.parsed.stored[path] for path in self.parsed.stored}
        return {path: self._plain(path, record) for path, record in self.parsed.items()}

    def output(self, slug: str) -> Output | None:
        packed = self.outputs.get(slug)
        return None if packed is None else Output._make(marshal.loads(packed))

    def _state(self) -> dict[str, Any]:
        """Every section in its stored form: plain values only."""
        return {"format": self.format, "site": self.site, "theme_problems": _pickled(self.theme_problems),
                "sources": self.sources, "parsed": self._plain_records(),
                "outputs": self.outputs,
                "pages": self.pages, "files": self.files, "out_inode": self.out_inode,
                "spare": self.spare, "spare_inode": self.spare_inode, "outline": tuple(self.outline)}

    def dump(self) -> bytes:
        """The whole cache, as the file's first frame."""
        return cachefile.whole(self._state())

    def dump_change(self) -> bytes | None:
        """What differs from the cache file's content, as one frame to append to it: a build
        that changed one article of 10,000 saves a few hundred bytes instead of 9 MB. None when
        the file is to be written whole: it was not loaded, or holds many changes already."""
        if self.saved is None or self.changes >= MAX_CHANGES or self.format != self.saved["format"]:
            return None
        state, change = self._state(), {}
        for name in SECTIONS:
            new, old = state[name], self.saved[name]
            if name in TABLES:  # most values are the very objects loaded: `is` says so at once
                changed = {key: value for key, value in new.items()
                           if (before := old.get(key, None)) is not value and before != value}
                added = sum(1 for key in changed if key not in old)
                removed = () if len(new) - added == len(old) else tuple(old.keys() - new.keys())
                if changed or removed:
                    change[name] = (changed, removed)
            elif new != old:
                change[name] = new
        frame = cachefile.change(change)
        return frame if len(frame) * 8 < self.saved_size else None  # a change of much: whole

    @classmethod
    def from_bytes(cls, data: bytes, identity: Identity = (0, 0, 0)) -> Cache:
        """The cache dump() and dump_change() wrote; ValueError if the bytes are not one."""
        state, changes = cachefile.sections(data)
        return cls(
            state["format"], state["site"], _unpickled(state["theme_problems"]),
            state["sources"], Records(state["parsed"]),
            state["outputs"],
            state["pages"], state["files"], state["out_inode"], state["spare"], state["spare_inode"],
            state["outline"], state, changes, len(data), identity)


def _pickled(problems: tuple[Problem, ...]) -> bytes:
    return pickle.dumps(problems) if problems else b""


def _unpickled(data: bytes) -> tuple[Problem, ...]:
    return pickle.loads(data) if data else ()


def _plain_listing(listing: Listing) -> tuple[Any, ...]:
    return (*listing[:2], listing.date.toordinal() if listing.date else None, *listing[3:])


def _listing(values: tuple[Any, ...]) -> Listing:
    date = dt.date.fromordinal(values[2]) if values[2] is not None else None
    return Listing(*values[:2], date, *values[3:])




def load(folder: Path) -> tuple[Cache, str]:
    """The cache, or an empty one and why: absent, unreadable, damaged or another version's."""
    try:
        identity, data = cachefile.read(folder)
    except FileNotFoundError:
        return Cache(), "no cache yet"
    except OSError as error:
        return Cache(), f"cache unreadable: {error.strerror}"
    try:
        with _uncollected():
            cache = Cache.from_bytes(data, identity)
    except Exception:  # whatever a damaged or foreign file makes marshal raise
        return Cache(), "cache damaged or from another version"
    # Hundreds of thousands of small objects that live as long as the build, none in a cycle:
    # the collector would walk them all again each time the heap grows by a quarter.
    gc.freeze()
    return cache, ""


@contextlib.contextmanager
def _uncollected() -> Iterator[None]:
    """No garbage collection while many objects are made and none freed (twice as fast)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def save(folder: Path, cache: Cache) -> None:
    """Append what changed to the cache file, or write it whole (into a new file, then renamed
    over the old one). A write cut short leaves a damaged frame: the whole cache is then ignored."""
    with _uncollected():
        change = cache.dump_change()
        data = change if change is not None else cache.dump()
    if change is not None:
        with open(folder / CACHE_FILE, "ab") as file:
            file.write(data)
        return
    temporary = folder / f"{CACHE_FILE}.{os.getpid()}"
    temporary.write_bytes(data)
    os.replace(temporary, folder / CACHE_FILE)


def key_of(*parts: Any) -> bytes:
    """A digest of values as they are pickled (pages' data: never articles, which stand for
    their source bytes by their fingerprints)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo: equal values pickle alike whatever objects they share
    pickler.dump(parts)
    return hashlib.blake2b(buffer.getbuffer(), digest_size=16).digest()


def installed() -> tuple[tuple[str, int, int], ...]:
    """sitegen's own files (code, templates, assets) as installed: a change to any of them, even
    without a new version number, may change every page."""
    package = Path(__file__).parent
    found = []
    for folder, _, names in sorted(os.walk(package)):
        if "__pycache__" in folder:
            continue
        for name in sorted(names):
            status = os.stat(os.path.join(folder, name))
            found.append((os.path.relpath(os.path.join(folder, name), package), status.st_size,
                          status.st_mtime_ns))
    return tuple(found)


def article_key(fingerprint: bytes, shared: bytes) -> bytes:
    return hashlib.blake2b(fingerprint + shared, digest_size=16).digest()

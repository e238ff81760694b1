"""Time cold whole-process builds of synthetic sites.

    python bench/run.py [--sizes 1000,10000] [--runs 5] [--keep]

For each size N, the corpus is generated once into bench/corpus-N/ (git-ignored) and reused while
its stamp matches the generator; then `python -m sitegen build --root bench/corpus-N --quiet` runs
--runs times, each one cold: public/, staging leftovers (.public.*) and .sitegen-cache/ are
deleted first. Wall time is measured around the child process from spawn to exit; peak RSS is the
child's own ru_maxrss, read with os.wait4 on its pid (KiB on Linux).
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


def machine_summary() -> str:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return (f"machine: nproc={affinity} cpu_count={os.cpu_count()} "
            f"python={platform.python_version()} ({platform.python_implementation()}) "
            f"platform={platform.platform()} executable={sys.executable}")


def report(n: int, runs: list[Run]) -> str:
    times = [run.seconds for run in runs]
    median = statistics.median(times)
    peak_mib = max(run.peak_rss_kib for run in runs) / 1024
    return (f"{n:>6,} articles: median {median:.3f} s (min {min(times):.3f}, max {max(times):.3f}, "
            f"{len(times)} runs) | {n / median:,.0f} articles/s | {median / n * 1000:.3f} ms/article"
            f" | peak RSS {peak_mib:.1f} MiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000",
                        help="comma-separated article counts (default: 1000,10000)")
    parser.add_argument("--runs", type=int, default=5, help="cold builds per size (default: 5)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the last build's public/ (default: delete it after timing)")
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
    lines = []
    for n in sizes:
        root = ensure_corpus(n)
        runs = []
        try:
            for number in range(1, arguments.runs + 1):
                clean(root)
                run = build_once(root)
                if number == 1:
                    check_output(root, n)
                runs.append(run)
                print(f"  corpus-{n} run {number}/{arguments.runs}: {run.seconds:.3f} s, "
                      f"peak RSS {run.peak_rss_kib / 1024:.1f} MiB", flush=True)
        except BuildError as failure:
            print(f"corpus-{n}: build failed: {failure}", file=sys.stderr)
            return 1
        finally:
            if not arguments.keep:
                clean(root)
        lines.append(report(n, runs))
        print(lines[-1], flush=True)
    print("\nsummary")
    print(machine_summary())
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time one build of a site whose one seed is a single long paragraph with many notes.

    python bench/long_seed.py [--sizes 250000,500000,1000000]

Issue 6, case 6: a 1 MB single-paragraph seed with 500 notes must build in linear time. Notes
grow with the text (one per 2,000 characters), so twice the text means twice the work: the last
column, seconds per MB, stays flat when the build is linear.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sitegen.build import Options, build_from_files

WORDS = ("harbour", "ship", "storm", "port", "quay", "crew", "mayor", "island", "tide", "dock")


def long_seed_site(size: int, notes: int) -> dict[str, bytes]:
    """seeds/big.txt: about `size` characters in one paragraph; content/big.md: `notes` notes,
    each on a word that occurs once."""
    rng = random.Random(size)
    words, length, every = [], 0, max(1, size // (notes * 8))
    while length < size or len(words) < notes * every:
        index = len(words)
        marked = index % every == 0 and index // every < notes
        word = f"marker{index // every}x" if marked else rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    sections = "".join(f'## "marker{n}x"\nNote {n}.\n\n' for n in range(notes))
    return {"sitegen.toml": b'title = "Long"\nbase_url = "https://example.org/"\n',
            "seeds/big.txt": (" ".join(words) + ".\n").encode(),
            "content/big.md": f"---\nseed: big.txt\ntitle: Big\n---\n{sections}".encode()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="250000,500000,1000000")
    arguments = parser.parse_args()
    print(f"{'characters':>12} {'notes':>6} {'seconds':>8} {'s per MB':>9}")
    for size in (int(text) for text in arguments.sizes.split(",")):
        files = long_seed_site(size, size // 2000)
        started = time.perf_counter()
        site, problems = build_from_files(files, Options())
        seconds = time.perf_counter() - started
        if site is None:
            print("\n".join(str(problem) for problem in problems), file=sys.stderr)
            return 1
        print(f"{size:>12,} {site.notes:>6} {seconds:>8.2f} {seconds / size * 1e6:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
